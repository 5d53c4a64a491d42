package artifacts

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// pinsPrefix names the pin records: "pins/<alg>/<hex>" holding the key.
const pinsPrefix = "pins/"

// Pin makes key a GC root: its result and everything that result reaches
// survive every GC until Unpin. The result need not exist. An invalid key
// is ErrInvalidArgument.
func Pin(ctx context.Context, r Records, key digest.Digest) error {
	name, err := pinName(key)
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	if err := r.PutRecord(ctx, name, []byte(key.String()+"\n")); err != nil {
		return fmt.Errorf("pin %s: %w", key, err)
	}
	return nil
}

// Unpin removes key's pin: ErrNotFound if it was not pinned.
func Unpin(ctx context.Context, r Records, key digest.Digest) error {
	name, err := pinName(key)
	if err != nil {
		return fmt.Errorf("unpin: %w", err)
	}
	if err := r.DeleteRecord(ctx, name); err != nil {
		return fmt.Errorf("unpin %s: %w", key, err)
	}
	return nil
}

func pinName(key digest.Digest) (string, error) {
	name, err := resultName(key) // validates
	if err != nil {
		return "", err
	}
	return pinsPrefix + strings.TrimPrefix(name, resultsPrefix), nil
}
