package event

import (
	"errors"
	"fmt"
)

// ErrUnsupportedVersion is returned (wrapped in a *JSONError) by DecodeJSON
// for an event whose "v" is not a version this package decodes (only 1).
var ErrUnsupportedVersion = errors.New("unsupported native event version")

// JSONError is returned by DecodeJSON when its input is not a native event
// it can decode.
type JSONError struct {
	Offset int    // byte offset in the input where the fault was found
	Path   string // the field at fault, e.g. "after.total", "source.commit_ts"; empty for the envelope itself
	Err    error  // what is wrong
}

func (e *JSONError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("decode native event JSON at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("decode native event JSON: %s at offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *JSONError) Unwrap() error { return e.Err }
