// Package errdefs defines the error classes shared by every dag package.
//
// A class is a sentinel that errors wrap with %w; callers test the class with
// the IsX helpers (errors.Is underneath), never the message text. Messages
// name the object that failed; the class says what kind of failure it was and
// so whether a retry can help.
package errdefs

import "errors"

// The classes. Each maps to the gRPC code of the same name.
var (
	// ErrNotFound: the object does not exist (a cache miss is NotFound).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create-only write found the object present.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument: the caller's input is wrong; retrying cannot help.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrFailedPrecondition: the system is not in a state that allows the
	// operation (a digest or size mismatch on commit, a plugin not ready).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnavailable: a transient failure; the same call may succeed later.
	ErrUnavailable = errors.New("unavailable")
	// ErrDataLoss: stored bytes no longer match their digest. The object
	// must not be used; re-producing it is the only remedy.
	ErrDataLoss = errors.New("data loss")
)

// IsNotFound reports whether err is of class NotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAlreadyExists reports whether err is of class AlreadyExists.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsInvalidArgument reports whether err is of class InvalidArgument.
func IsInvalidArgument(err error) bool { return errors.Is(err, ErrInvalidArgument) }

// IsFailedPrecondition reports whether err is of class FailedPrecondition.
func IsFailedPrecondition(err error) bool { return errors.Is(err, ErrFailedPrecondition) }

// IsUnavailable reports whether err is of class Unavailable.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsDataLoss reports whether err is of class DataLoss.
func IsDataLoss(err error) bool { return errors.Is(err, ErrDataLoss) }
