// Package runlock makes sure one run at a time works on a database.
//
// The lock is an flock(2) on a file beside the database. The kernel drops
// it when the holding process dies, however it dies, so a killed run never
// leaves a stale lock behind; the file only carries who holds it (PID,
// start time, command) for the message the second run prints.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// ErrHeld means another run holds the lock.
var ErrHeld = errors.New("another referrals run is using this database")

// Lock is a held lock; Release it when the run ends.
type Lock struct {
	f    *os.File
	path string
}

// HeldError says who holds the lock.
type HeldError struct {
	Path   string
	Holder string // "PID 1234, started 2026-11-26T02:00:01Z: referrals run"
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%v (%s; lock file %s): this run stops here; the other run will finish on its own, try again after it", ErrHeld, e.Holder, e.Path)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Acquire takes the lock at path without waiting. what describes this run
// for the message another run would print.
func Acquire(path, what string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "holder unknown"
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, Holder: holder}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("PID %d, started %s: %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339), what)), 0)
	_ = f.Sync()
	return &Lock{f: f, path: path}, nil
}

// Release drops the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
