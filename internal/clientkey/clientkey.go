// Package clientkey holds the per-installation secret that keys client
// identifiers (HMAC-SHA256) before they are stored.
//
// The secret comes from the REFERRALS_CLIENT_KEY environment variable or a
// key file created once, mode 0600, beside the database. Losing the key file
// only means the next load keys clients differently: keep it with the
// database backup.
package clientkey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvVar names the environment variable that overrides the key file.
const EnvVar = "REFERRALS_CLIENT_KEY"

// ErrNoKeyFile is Load's error when the key file does not exist and may not
// be created.
var ErrNoKeyFile = errors.New("no client key file")

// Load returns the secret: from the environment value env if non-empty,
// else from the key file at path, creating it (32 random bytes, hex, 0600)
// when it does not exist and create says so; otherwise a missing file is
// ErrNoKeyFile.
func Load(env, path string, create bool) ([]byte, error) {
	secret, err := Read(env, path)
	if err == nil {
		if strings.TrimSpace(env) == "" {
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				_ = os.Chmod(path, 0o600)
			}
		}
		return secret, nil
	}
	if create && strings.TrimSpace(env) == "" && emptyFile(path) {
		// An empty key file beside a database that holds no client (or one being
		// rebuilt) keyed nothing: what a creation cut off by an earlier version left.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("replace the empty client key file %s: %w", path, err)
		}
		err = ErrNoKeyFile
	}
	if !errors.Is(err, ErrNoKeyFile) || !create {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(raw)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create folder for client key file %s: %w", path, err)
	}
	// Written whole and synced under a temporary name, then linked to its own: a
	// run killed (or a machine losing power) while it makes the file leaves no
	// file, or the whole secret, never an empty key file that would stop every
	// later command. The link fails if another process made the file first: then
	// its secret is the one.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return nil, fmt.Errorf("create client key file %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := writeSynced(f, path, key); err != nil {
		return nil, err
	}
	if err := link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return Read(env, path)
		}
		// A file system without hard links (some network shares, FAT): the file is
		// made in place, written and synced, as before.
		if err := writeNew(path, key); err != nil {
			if errors.Is(err, os.ErrExist) {
				return Read(env, path)
			}
			return nil, err
		}
		return []byte(key), nil
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the new name, on disk with the file
		d.Close()
	}
	return []byte(key), nil
}

// link is os.Link; a test stands in a file system without hard links.
var link = os.Link

// writeNew creates the file at path, which must not exist, with key, synced.
func writeNew(path, key string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create client key file %s: %w", path, err)
	}
	return writeSynced(f, path, key)
}

// writeSynced writes key to f, the key file at path or its temporary copy, syncs
// and closes it.
func writeSynced(f *os.File, path, key string) error {
	_, err := f.WriteString(key + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write client key file %s: %w", path, err)
	}
	return nil
}

// emptyFile says whether the file at path exists and holds nothing but white space.
func emptyFile(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64 {
		return false
	}
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == ""
}

// Read returns the secret as Load does, changing nothing: it neither creates
// the key file (a missing one is ErrNoKeyFile) nor tightens its mode. For
// `referrals check`, which must find what the run would refuse without
// touching anything.
func Read(env, path string) ([]byte, error) {
	if s := strings.TrimSpace(env); s != "" {
		if len(s) < 16 {
			return nil, fmt.Errorf("%s is too short: use at least 16 characters (e.g. the output of `openssl rand -hex 32`)", EnvVar)
		}
		return []byte(s), nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return nil, fmt.Errorf("client key file %s is too short or empty: restore it from the backup taken with the database, or delete it AND the database to start afresh", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read client key file %s: %w", path, err)
	}
	return nil, fmt.Errorf("%w: %s", ErrNoKeyFile, path)
}

// Whitespace is what is trimmed from a client id before it is keyed: ASCII
// white space and the no-break space that spreadsheets leave behind.
const Whitespace = " \t\n\v\f\r\u00a0"

// Key returns the key of a client id, trimmed of Whitespace and made
// Canonical, under secret, as the decimal text of the UBIGINT the loader
// stores in a database made since leading zeros were dropped (the same value,
// computed by the database through a Keyer).
func Key(secret []byte, clientID string) string {
	return strconv.FormatUint(NewKeyer(secret).Key(Canonical(strings.Trim(clientID, Whitespace))), 10)
}

// Canonical is a trimmed client id as it is keyed: an id of digits alone
// without its leading zeros ("00501" is "501"; "000" is "0"), as a spreadsheet
// writes it once it has opened the export, so that the client of an export saved
// through Excel is the client of one that was not. Any other id is itself.
func Canonical(id string) string {
	if len(id) < 2 || id[0] != '0' {
		return id
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return id
		}
	}
	i := 0
	for i < len(id)-1 && id[i] == '0' {
		i++
	}
	return id[i:]
}

// Keyer keys client ids one after another under one secret, reusing its
// HMAC state. It is not safe for concurrent use.
type Keyer struct {
	m   hash.Hash
	sum [sha256.Size]byte
}

// NewKeyer returns a Keyer for secret.
func NewKeyer(secret []byte) *Keyer {
	return &Keyer{m: hmac.New(sha256.New, secret)}
}

// Key returns the key of an id already trimmed: the first 64 bits of its
// HMAC-SHA256, read big-endian. Two clients share a key with a chance of
// n²/2^65 for n clients: about 1 in 37 million for a million clients, 1 in
// 370,000 for ten million. A number of 8 bytes joins and groups faster
// than the 16 of the 128 bits kept before (0.77 s of a 21 s full run at 10M
// rows of exports, in the per-client tables and the marts that join them).
func (k *Keyer) Key(id string) uint64 {
	k.m.Reset()
	k.m.Write([]byte(id))
	sum := k.m.Sum(k.sum[:0])
	return binary.BigEndian.Uint64(sum[:8])
}

// Fingerprint identifies a secret without revealing it, for a database to
// remember which secret keyed its clients: the hex of the first 128 bits of
// the secret's HMAC of a fixed label (no client id reads so).
func Fingerprint(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("referrals: which secret keyed this database's clients"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
