package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/referrals/referrals/internal/config"
	"github.com/referrals/referrals/pipeline"
)

// One installation often runs several practices, each with its own
// configuration file. A configuration copied from another and half edited
// names the other's database or reports folder: loaded into one database, the
// two practices' exports mix (ids they share replace each other's rows, and the
// ledger's paths, relative to each configuration's folder, mean two files), and
// written into one folder, one practice's reports overwrite the other's. Each
// database and each reports folder records whose it is, and a command of
// another refuses to touch it (exit 2), naming both.

// sameFile says whether the paths a and b name one existing file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// existingFile says whether path names a file that is there (not a folder).
func existingFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// otherOwner says whether a database at dbPath, recorded as the one at
// recordedDB whose exports come from the configuration owner, belongs to another
// configuration than file: one that is still there, for this very database file.
// A database copied or moved (a backup restored elsewhere, the bench's copy) has
// another path than the one recorded, and goes with the configuration that
// opens it; so does one whose configuration was moved or renamed.
func otherOwner(owner, recordedDB, file, dbPath string) bool {
	if owner == "" || file == "" || sameFile(owner, file) || !existingFile(owner) {
		return false
	}
	return recordedDB == "" || sameFile(recordedDB, dbPath)
}

// claimDatabase refuses a database whose loaded rows came from another
// configuration file that still exists, and records this one as its owner. The
// built-in settings (no configuration file) neither claim nor are refused.
func (j *job) claimDatabase(ctx context.Context, dbPath string) error {
	file := j.cfg.File
	if file == "" {
		return nil
	}
	owner, recordedDB, err := pipeline.DatabaseOwner(ctx, j.db)
	if err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	if owner == file && recordedDB == dbPath {
		return nil
	}
	if otherOwner(owner, recordedDB, file, dbPath) {
		_, loaded, err := pipeline.ClientKeyState(ctx, j.db)
		if err != nil {
			return fmt.Errorf("database %s: %w", dbPath, err)
		}
		if loaded {
			return fmt.Errorf("%w: %s", config.ErrConfig, otherDatabaseOwner(j.cfg, owner))
		}
	}
	return pipeline.RecordDatabaseOwner(ctx, j.db, file, dbPath)
}

// otherDatabaseOwner is the problem of a configuration that names the database
// of the configuration file owner.
func otherDatabaseOwner(cfg config.Config, owner string) string {
	return fmt.Sprintf("%s: database = %q names %s, the database of the configuration %s, which holds its exports: "+
		"loaded into it, this configuration's exports would mix with that one's (appointments with the same ids replacing each other's) and its reports would show both. "+
		"Give this configuration a database of its own (and an out_dir of its own). "+
		"If this file replaces %s for the same practice, delete or rename that one, and the database goes with this file",
		cfg.Where("database"), cfg.Database, cfg.Path(cfg.Database), owner, owner)
}

// storedOtherOwner is, for check, the problem of a configuration that names the
// database of another configuration file that still exists ("" when there is
// none), read without changing the database.
func storedOtherOwner(ctx context.Context, cfg config.Config) (string, error) {
	dbPath := cfg.Path(cfg.Database)
	if cfg.File == "" || !existingFile(dbPath) {
		return "", nil
	}
	st, err := pipeline.ReadStored(ctx, dbPath)
	if err != nil || !st.Loaded || !otherOwner(st.OwnerConfig, st.OwnerDB, cfg.File, dbPath) {
		return "", err
	}
	return otherDatabaseOwner(cfg, st.OwnerConfig), nil
}

// outDirMarker is the file in a reports folder that names the database whose
// reports it holds.
const outDirMarker = ".referrals-database"

// outDirOwner reads the database a reports folder holds the reports of ("" when
// none is recorded, or the folder is not there), and the problem when that is
// another database that still exists. It changes nothing.
func outDirOwner(cfg config.Config) (owner, problem string, err error) {
	outDir := cfg.Path(cfg.OutDir)
	dbPath := cfg.Path(cfg.Database)
	marker := filepath.Join(outDir, outDirMarker)
	b, err := os.ReadFile(marker)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", marker, err)
	}
	owner = strings.TrimSpace(string(b))
	if owner == "" || sameFile(owner, dbPath) || !existingFile(owner) {
		return owner, "", nil
	}
	return owner, fmt.Sprintf("%s: out_dir = %q names %s, which holds the reports of another database, %s (%s says so): "+
		"this run's reports have the same names and would overwrite that practice's. "+
		"Give this configuration a reports folder of its own; or, if %s is this practice's database (the configuration was moved and its relative database path now names another file), set database = %q. "+
		"If %s is gone for good, delete %s",
		cfg.Where("out_dir"), cfg.OutDir, outDir, owner, marker, owner, owner, owner, marker), nil
}

// checkOutDir refuses (exit 2) a reports folder that holds another database's
// reports while that database still exists, and returns the database it holds
// the reports of. It changes nothing: the run calls it before loading
// anything, and claimOutDir once it writes the reports.
func checkOutDir(cfg config.Config) (owner string, err error) {
	owner, problem, err := outDirOwner(cfg)
	if err == nil && problem != "" {
		err = fmt.Errorf("%w: %s", config.ErrConfig, problem)
	}
	return owner, err
}

// claimOutDir makes the reports folder and records in it this run's database
// as the one whose reports it holds, unless it holds another's (checkOutDir).
func claimOutDir(cfg config.Config) error {
	outDir := cfg.Path(cfg.OutDir)
	dbPath := cfg.Path(cfg.Database)
	owner, err := checkOutDir(cfg)
	if err != nil {
		return err
	}
	if owner == dbPath {
		return nil
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return fmt.Errorf("create reports folder %s: %w", outDir, err)
	}
	marker := filepath.Join(outDir, outDirMarker)
	tmp, err := os.CreateTemp(outDir, outDirMarker+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", marker, err)
	}
	_, werr := tmp.WriteString(dbPath + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	_, statErr := os.Stat(marker)
	linked := false
	if werr == nil && errors.Is(statErr, fs.ErrNotExist) {
		// No database claimed the folder yet: two practices' first runs at once
		// must not both take it, so the marker is linked in only where none is
		// (a folder that takes no hard link is claimed by a rename below).
		err := os.Link(tmp.Name(), marker)
		if errors.Is(err, fs.ErrExist) {
			os.Remove(tmp.Name())
			_, err := checkOutDir(cfg)
			return err
		}
		if err == nil {
			linked = true
			werr = os.Remove(tmp.Name())
		}
	}
	if werr == nil && !linked {
		werr = os.Rename(tmp.Name(), marker)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", marker, werr)
	}
	return nil
}
