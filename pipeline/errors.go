package pipeline

import (
	"context"
	"errors"
)

// IsRetryable reports whether err may go away if the session is started
// again: anything but cancellation and errors marked permanent by the
// component that returned them (a value in the chain with a Permanent()
// method returning true).
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return false
	}
	return true
}

// PermanentError marks an error as not worth retrying.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string   { return e.Err.Error() }
func (e *PermanentError) Unwrap() error   { return e.Err }
func (e *PermanentError) Permanent() bool { return true }

// Permanent wraps err so that IsRetryable reports false for it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Stage names where in the pipeline an error happened; it is the bounded
// label set of the errors metric.
type Stage string

// The stages.
const (
	StageSource    Stage = "source"
	StageTransform Stage = "transform"
	StageSink      Stage = "sink"
	StageAck       Stage = "ack"
)

// StageError is an error with the stage it happened in.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// ErrorStage returns the stage of err, or "" when it has none.
func ErrorStage(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

func stageErr(s Stage, err error) error { return &StageError{Stage: s, Err: err} }
