package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/dagproject/dag/errdefs"
)

// Error types that Temporal never retries (RetryPolicy.NonRetryableErrorTypes
// need not list them: the errors are created non-retryable).
const (
	ErrTypeInvalidArgument    = "InvalidArgument"
	ErrTypeFailedPrecondition = "FailedPrecondition"
	ErrTypeDataLoss           = "DataLoss"
)

// classify turns an error into what Temporal should do with it: bad input
// and corrupt data fail the node at once; anything else is retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errdefs.IsInvalidArgument(err):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidArgument, err)
	case errdefs.IsFailedPrecondition(err):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeFailedPrecondition, err)
	case errdefs.IsDataLoss(err):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeDataLoss, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return err
}
