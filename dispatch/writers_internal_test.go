package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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

// One writer's failure stops the other (its ctx is cancelled) and is what
// the run reports.
func TestWriteConcurrently(t *testing.T) {
	boom := errors.New("disk full")
	var calls atomic.Int32
	err := writeConcurrently(context.Background(), 2, func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			return boom
		}
		<-ctx.Done() // the other writer waits for the cancellation
		return fmt.Errorf("store: enqueue: %w", ctx.Err())
	})
	if err != boom || calls.Load() != 2 {
		t.Fatalf("err %v after %d writers, want %v after 2", err, calls.Load(), boom)
	}
	if err := writeConcurrently(context.Background(), 0, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
