package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/dagproject/dag/errdefs"
)

// classify wraps err, the failure of the S3 call op on object, with the
// errdefs class it belongs to:
//
//   - NoSuchKey, NoSuchUpload, NoSuchBucket and other 404s: ErrNotFound
//   - PreconditionFailed (a create-only write found the key): ErrAlreadyExists
//   - AccessDenied, bad credentials or signatures (403): ErrFailedPrecondition,
//     since retrying cannot help until the configuration changes
//   - 5xx, SlowDown, RequestTimeout, and network failures (refused or reset
//     connections, timeouts, truncated responses): ErrUnavailable
//   - other 4xx: ErrInvalidArgument
//
// Context errors are returned as they are, wrapped with op.
func classify(op, object string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3 %s %s: %w", op, object, err)
	}
	if class := errorClass(err); class != nil {
		return fmt.Errorf("s3 %s %s: %w: %w", op, object, class, err)
	}
	return fmt.Errorf("s3 %s %s: %w", op, object, err)
}

// errorClass returns the errdefs class of an S3 or network error, or nil.
func errorClass(err error) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code != "" || resp.StatusCode != 0) {
		switch resp.Code {
		case "NoSuchKey", "NoSuchUpload", "NoSuchBucket", "NoSuchVersion", "NotFound":
			return errdefs.ErrNotFound
		case "PreconditionFailed":
			return errdefs.ErrAlreadyExists
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
			"InvalidToken", "ExpiredToken", "AccountProblem":
			return errdefs.ErrFailedPrecondition
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
			"RequestTimeTooSkewed", "OperationAborted", "ConditionalRequestConflict", "XMinioServerNotInitialized":
			return errdefs.ErrUnavailable
		}
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return errdefs.ErrNotFound
		case resp.StatusCode == http.StatusPreconditionFailed:
			return errdefs.ErrAlreadyExists
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
			return errdefs.ErrFailedPrecondition
		case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
			return errdefs.ErrUnavailable
		case resp.StatusCode >= 400:
			return errdefs.ErrInvalidArgument
		}
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errdefs.ErrUnavailable
	case errors.As(err, &ne):
		return errdefs.ErrUnavailable
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return errdefs.ErrUnavailable
	}
	return nil
}
