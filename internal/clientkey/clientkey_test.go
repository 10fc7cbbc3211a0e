package clientkey

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFileCreatedOnceOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "referrals.key")
	first, err := Load("", path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := Load("", path, true)
	if err != nil || string(again) != string(first) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	if len(first) < 32 {
		t.Errorf("key of %d characters", len(first))
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "referrals.key")
	k, err := Load("  an-installation-secret-of-some-length ", path, true)
	if err != nil || string(k) != "an-installation-secret-of-some-length" {
		t.Fatalf("key %q (%v)", k, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a key file was created although the environment gave the key")
	}
	if _, err := Load("short", path, true); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("a short key was accepted or the error does not name %s: %v", EnvVar, err)
	}
}

func TestKeyIsHMACAndTrims(t *testing.T) {
	// RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
	// Its first 64 bits, 5bdcc146bf60754e, in decimal.
	want := "6619378061930427726"
	if got := Key([]byte("Jefe"), " what do ya want for nothing? "); got != want {
		t.Fatalf("Key = %s, want %s", got, want)
	}
}

// An id of digits alone is keyed without its leading zeros, as a spreadsheet
// that opened the export writes it; every other id is keyed as it is.
func TestCanonicalDropsLeadingZerosOfNumbersOnly(t *testing.T) {
	for id, want := range map[string]string{
		"00501": "501", "501": "501", "0": "0", "000": "0", "0501": "501", "00": "0",
		"0A12": "0A12", "00501-2": "00501-2", "0.5": "0.5", "": "", "A00501": "A00501", "00 501": "00 501",
	} {
		if got := Canonical(id); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", id, got, want)
		}
	}
	secret := []byte("a secret of some length")
	if Key(secret, " 00501 ") != Key(secret, "501") {
		t.Error("00501 and 501 have different keys")
	}
	if Key(secret, "0A12") == Key(secret, "A12") {
		t.Error("0A12 and A12 have the same key")
	}
}

// A key file that may not be created is an error naming the path, and none is
// written; the fingerprint tells secrets apart and is the same for one secret.
func TestMissingKeyFileNotCreatedWhenForbidden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "referrals.key")
	if _, err := Load("", path, false); !errors.Is(err, ErrNoKeyFile) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load without create: %v, want ErrNoKeyFile naming %s", err, path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a key file was written: %v", err)
	}
	a, b := Fingerprint([]byte("secret one of some length")), Fingerprint([]byte("secret two of some length"))
	if a == b || len(a) != 32 || a != Fingerprint([]byte("secret one of some length")) {
		t.Errorf("fingerprints %q and %q: want 32 hex characters, the same for one secret, different for two", a, b)
	}
}

// The key file is made under a temporary name and linked into place: none is
// left beside it. An empty key file, what a creation cut off before it wrote
// the secret left, is replaced where the database holds no client (create),
// and still refused where it does; a short secret is never replaced.
func TestKeyFileMadeWholeAndEmptyOneReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "referrals.key")
	if _, err := Load("", path, true); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files after the key file was made, want 1", len(entries))
	}

	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", path, false); err == nil || !strings.Contains(err.Error(), "too short or empty") {
		t.Errorf("empty key file beside a database with clients: %v, want it refused", err)
	}
	k, err := Load("", path, true)
	if err != nil || len(k) < 32 {
		t.Fatalf("empty key file beside a database without clients: %q, %v; want a new secret", k, err)
	}
	if again, err := Read("", path); err != nil || string(again) != string(k) {
		t.Errorf("the new secret was not written: %q, %v", again, err)
	}

	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", path, true); err == nil {
		t.Error("a short secret was replaced")
	}
}

// On a file system without hard links the key file is made in place.
func TestKeyFileWithoutHardLinks(t *testing.T) {
	defer func(l func(string, string) error) { link = l }(link)
	link = func(string, string) error { return &os.LinkError{Op: "link", Err: errors.ErrUnsupported} }
	dir := t.TempDir()
	path := filepath.Join(dir, "referrals.key")
	k, err := Load("", path, true)
	if err != nil || len(k) < 32 {
		t.Fatalf("Load = %q, %v; want a new secret", k, err)
	}
	if again, err := Read("", path); err != nil || string(again) != string(k) {
		t.Errorf("the secret was not written: %q, %v", again, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want the key file alone", len(entries))
	}
}
