package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecondAcquireNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "referrals.duckdb.lock")
	l, err := Acquire(path, "referrals run")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path, "referrals run")
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second acquire: %v, want a HeldError", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) || !strings.Contains(err.Error(), "started") {
		t.Errorf("message %q does not name the holder", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(path, "referrals run")
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	l2.Release()
}
