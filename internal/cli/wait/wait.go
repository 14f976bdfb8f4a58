// Package wait polls an object until an operation on it finishes, showing
// progress while it does.
package wait

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"k8s.io/cli-runtime/pkg/printers"
)

// State is one observation of the object being waited for.
type State struct {
	// Done means the operation finished, well or not: Err says which.
	Done bool
	// Err is why the operation failed, when Done.
	Err error
	// Condition describes the latest condition, for progress and for the
	// timeout error.
	Condition string
}

// Check observes the object once. An error ends the wait.
type Check func(ctx context.Context) (State, error)

// TimeoutError is a wait that ran out of time; it carries the last
// condition so the person knows where the operation is stuck.
type TimeoutError struct {
	What  string
	After time.Duration
	Last  string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %s; last condition: %s\n"+
		"The operation goes on in the background: check it again later, or wait longer with --timeout",
		e.After, e.What, e.Last)
}

// Waiter polls until a check says done.
type Waiter struct {
	// Interval between checks.
	Interval time.Duration
	// Timeout of the whole wait; zero or negative waits forever.
	Timeout time.Duration
	// Progress receives what the wait is doing.
	Progress io.Writer
	// Terminal redraws one status line with the elapsed time; otherwise a
	// line is printed each time the condition changes, which reads well in
	// CI logs.
	Terminal bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// For waits until check reports done, the timeout passes or ctx ends. what
// names the goal in messages, such as `instance "db" to be provisioned`.
func (w Waiter) For(ctx context.Context, what string, check Check) error {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	if w.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.Timeout)
		defer cancel()
	}
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	p := progress{w: w.Progress, terminal: w.Terminal}
	p.start(what)
	defer p.end()

	last := ""
	for {
		st, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			if st.Condition != "" {
				last = st.Condition
			}
			if st.Done {
				return st.Err
			}
			p.update(now().Sub(start), last)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && w.Timeout > 0 {
				return &TimeoutError{What: what, After: w.Timeout, Last: orNone(last)}
			}
			return fmt.Errorf("stopped waiting for %s (%w); the operation goes on in the background", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none reported yet (is the catalog controller running?)"
	}
	return s
}

type progress struct {
	w        io.Writer
	terminal bool
	shown    string
	drawn    bool
}

func (p *progress) start(what string) {
	if p.w != nil {
		fmt.Fprintf(p.w, "Waiting for %s...\n", what)
	}
}

func (p *progress) update(elapsed time.Duration, cond string) {
	if p.w == nil {
		return
	}
	if p.terminal {
		// \r and erase-line redraw in place so the screen is not flooded.
		fmt.Fprintf(p.w, "\r\x1b[K  %s elapsed: %s", elapsed.Round(time.Second), printers.EscapeTerminal(orNone(cond)))
		p.drawn = true
		return
	}
	if cond != "" && cond != p.shown {
		fmt.Fprintf(p.w, "  %s\n", printers.EscapeTerminal(cond))
		p.shown = cond
	}
}

func (p *progress) end() {
	if p.w != nil && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
