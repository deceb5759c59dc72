package testenv

import (
	"errors"
	"fmt"
	"strings"
)

// ErrClosed is returned by Start and Stop of a server that was closed.
var ErrClosed = errors.New("testenv: server closed")

// BinaryNotFoundError is returned by StartPostgres and StartMariaDB when a
// server program cannot be found.
type BinaryNotFoundError struct {
	Name     string   // the program, e.g. "initdb"
	Searched []string // where we looked
	Package  string   // the Debian package that provides it
}

func (e *BinaryNotFoundError) Error() string {
	return fmt.Sprintf("testenv: %s not found (looked in %s); `make test` installs it, or run: apt-get install %s",
		e.Name, strings.Join(e.Searched, ", "), e.Package)
}

// StartError is returned when a server program failed or a server did not
// become ready. Log holds the tail of the program's output.
type StartError struct {
	Server  string // "postgres", "initdb", "mariadbd", ...
	LogFile string
	Log     string
	Err     error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("testenv: start %s: %v\n--- tail of %s ---\n%s", e.Server, e.Err, e.LogFile, e.Log)
}

func (e *StartError) Unwrap() error { return e.Err }
