package dispatch

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// When one writer fails, the others stop with the cancellation it caused:
// the run reports the failure, not the cancellation.
func TestFirstCause(t *testing.T) {
	boom := errors.New("disk full")
	canceled := fmt.Errorf("store: enqueue: %w", context.Canceled)
	for _, tc := range []struct {
		errs []error
		want error
	}{
		{[]error{nil, nil}, nil},
		{[]error{canceled, boom}, boom},
		{[]error{boom, canceled}, boom},
		{[]error{nil, canceled, nil}, canceled},
		{[]error{boom, errors.New("later")}, boom},
	} {
		var got error
		for _, err := range tc.errs {
			got = firstCause(got, err)
		}
		if got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.errs, got, tc.want)
		}
	}
}
