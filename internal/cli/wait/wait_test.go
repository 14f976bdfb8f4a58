package wait

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// script returns a check that reports the given states in turn, then keeps
// reporting the last one.
func script(states ...State) (Check, *int) {
	calls := 0
	return func(context.Context) (State, error) {
		s := states[min(calls, len(states)-1)]
		calls++
		return s, nil
	}, &calls
}

func TestFor(t *testing.T) {
	failure := errors.New("Failed (ProvisionCallFailed): broker said no")
	tests := []struct {
		name      string
		states    []State
		timeout   time.Duration
		wantErr   string
		wantCalls int
		wantLog   []string
	}{{
		name: "done after progress",
		states: []State{
			{Condition: "Ready=False (Provisioning): The instance is being provisioned"},
			{Condition: "Ready=False (Provisioning): The instance is being provisioned"},
			{Done: true, Condition: "Ready=True (ProvisionedSuccessfully): done"},
		},
		wantCalls: 3,
		wantLog: []string{
			"Waiting for instance \"db\" to be provisioned...",
			"  Ready=False (Provisioning): The instance is being provisioned",
		},
	}, {
		name:      "failure ends the wait",
		states:    []State{{}, {Done: true, Err: failure}},
		wantErr:   failure.Error(),
		wantCalls: 2,
	}, {
		name:    "timeout reports the last condition",
		states:  []State{{Condition: "Ready=False (ProvisionRequestInFlight): in flight"}},
		timeout: 30 * time.Millisecond,
		wantErr: "timed out after 30ms waiting for instance \"db\" to be provisioned; last condition: Ready=False (ProvisionRequestInFlight): in flight",
	}, {
		name:    "timeout without any condition suggests the controller",
		states:  []State{{}},
		timeout: 30 * time.Millisecond,
		wantErr: "last condition: none reported yet (is the catalog controller running?)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check, calls := script(tt.states...)
			var log strings.Builder
			w := Waiter{Interval: time.Millisecond, Timeout: tt.timeout, Progress: &log}
			err := w.For(context.Background(), "instance \"db\" to be provisioned", check)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if tt.wantCalls != 0 && *calls != tt.wantCalls {
				t.Errorf("checked %d times, want %d", *calls, tt.wantCalls)
			}
			if tt.wantLog != nil {
				if got, want := log.String(), strings.Join(tt.wantLog, "\n")+"\n"; got != want {
					t.Errorf("progress:\n%s\nwant:\n%s", got, want)
				}
			}
		})
	}
}

func TestForTimeoutIsTyped(t *testing.T) {
	check, _ := script(State{})
	err := Waiter{Interval: time.Millisecond, Timeout: 10 * time.Millisecond}.For(context.Background(), "x", check)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want a TimeoutError", err)
	}
}

func TestForCheckError(t *testing.T) {
	boom := errors.New("forbidden")
	err := Waiter{Interval: time.Millisecond}.For(context.Background(), "x", func(context.Context) (State, error) { return State{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want %v", err, boom)
	}
}

func TestTerminalProgressRedrawsOneLine(t *testing.T) {
	check, _ := script(State{Condition: "Ready=False (Provisioning): working"}, State{Done: true})
	var log strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(2 * time.Second); return now }
	w := Waiter{Interval: time.Millisecond, Progress: &log, Terminal: true, Now: clock}
	if err := w.For(context.Background(), "x", check); err != nil {
		t.Fatal(err)
	}
	want := "Waiting for x...\n\r\x1b[K  2s elapsed: Ready=False (Provisioning): working\r\x1b[K"
	if log.String() != want {
		t.Errorf("progress = %q, want %q", log.String(), want)
	}
}

func TestForInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	check := func(context.Context) (State, error) { cancel(); return State{}, nil }
	err := Waiter{Interval: time.Millisecond}.For(ctx, "instance \"db\" to be provisioned", check)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "goes on in the background") {
		t.Fatalf("error = %v", err)
	}
}
