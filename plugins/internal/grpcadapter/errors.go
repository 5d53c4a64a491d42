package grpcadapter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dagproject/dag/errdefs"
)

// classes pairs each errdefs class with its gRPC code, in the order
// ToGRPC tests them.
var classes = []struct {
	class error
	code  codes.Code
}{
	{errdefs.ErrNotFound, codes.NotFound},
	{errdefs.ErrAlreadyExists, codes.AlreadyExists},
	{errdefs.ErrInvalidArgument, codes.InvalidArgument},
	{errdefs.ErrFailedPrecondition, codes.FailedPrecondition},
	{errdefs.ErrUnavailable, codes.Unavailable},
	{errdefs.ErrDataLoss, codes.DataLoss},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// ToGRPC returns err as a gRPC status error whose code is err's class
// (errdefs classes, context.Canceled, context.DeadlineExceeded) and whose
// message is err's text. An error of no class that already carries a gRPC
// status keeps it; any other becomes codes.Unknown. nil stays nil.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	for _, c := range classes {
		if errors.Is(err, c.class) {
			return status.Error(c.code, err.Error())
		}
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unknown, err.Error())
}

// FromGRPC undoes ToGRPC: an error whose gRPC code matches a class wraps
// that class, with the status message as its text (minus the class's own
// trailing text, so the message reads as it did on the far side). Errors
// of other codes, and errors that are not gRPC statuses, are returned
// unchanged. nil stays nil.
func FromGRPC(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, c := range classes {
		if st.Code() != c.code {
			continue
		}
		msg := st.Message()
		suffix := c.class.Error()
		switch {
		case msg == suffix || msg == "":
			return fmt.Errorf("%w", c.class)
		case strings.HasSuffix(msg, ": "+suffix):
			msg = strings.TrimSuffix(msg, ": "+suffix)
		}
		return &remoteError{msg: msg, class: c.class, status: st.Err()}
	}
	return err
}

// remoteError is an error that came across the wire: it reads as the
// remote message plus its class, and matches both the class and the
// original status (status.FromError still finds the code).
type remoteError struct {
	msg    string
	class  error
	status error
}

func (e *remoteError) Error() string { return e.msg + ": " + e.class.Error() }

func (e *remoteError) Unwrap() []error { return []error{e.class, e.status} }

// GRPCStatus lets status.FromError and status.Code see the original code.
func (e *remoteError) GRPCStatus() *status.Status {
	st, _ := status.FromError(e.status)
	return st
}
