package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// findApp resolves a zero App to the binary built next to this executable
// (make demo builds all of them into bin/), or one on PATH.
func findApp(name string, app App) (App, error) {
	if app.Path != "" {
		return app, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			app.Path = p
			return app, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return app, fmt.Errorf("%s not found next to this program or on PATH: run 'make demo', or 'go build -o bin/ ./cmd/...'", name)
	}
	app.Path = p
	return app, nil
}

// startApp runs a sample app as a local process with the bindings
// directory, and returns its base URL once it listens. The app picks a free
// port and prints it; its logs go to the components log.
func (s *Sandbox) startApp(ctx context.Context, name string, app App, bindingRoot string) (string, error) {
	app, err := findApp(name, app)
	if err != nil {
		return "", err
	}
	args := append(append([]string{}, app.Args...), "--listen", "127.0.0.1:0")
	s.printf("$ SERVICE_BINDING_ROOT=%s %s --listen 127.0.0.1:0 &\n", bindingRoot, name)
	c := exec.Command(app.Path, args...)
	c.Env = append(append(os.Environ(), app.Env...), "SERVICE_BINDING_ROOT="+bindingRoot)
	c.Stderr = s.logFile
	stdout, err := c.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := c.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	s.onStop(func() {
		// SIGTERM lets the consumer leave its group; a stuck app is killed.
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-exited
		}
	})
	// The reader keeps draining stdout for the app's whole life, so that
	// the app never blocks on a full pipe; lines nobody waits for (after
	// the address) are dropped.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	timer := time.NewTimer(s.opts.StepTimeout)
	defer timer.Stop()
	for {
		select {
		case l := <-lines:
			s.printf("%s\n", l)
			if _, url, ok := strings.Cut(l, " listening on "); ok {
				return url, nil
			}
		case err := <-exited:
			exited <- err // for the stop function
			return "", fmt.Errorf("%s exited: %v (its log is in %s)", name, err, s.logFile.Name())
		case <-timer.C:
			return "", fmt.Errorf("%s did not start listening within %s", name, s.opts.StepTimeout)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// post is `curl URL -H Content-Type:text/plain -d MSG`.
func (s *Sandbox) post(ctx context.Context, url, msg string) error {
	s.printf("$ curl %s -H Content-Type:text/plain -d %s\n", url, msg)
	ctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(msg))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s.fail("POST "+msg, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	s.printf("%s", withNewline(string(body)))
	if resp.StatusCode != http.StatusOK {
		return s.fail("POST "+msg, fmt.Errorf("%s", resp.Status))
	}
	return nil
}

// stream is an open `curl -N URL` on the consumer.
type stream struct {
	cancel context.CancelFunc
	lines  chan string
}

func (s *Sandbox) openStream(ctx context.Context, url string) (*stream, error) {
	s.printf("$ curl -N %s &\n", url)
	sctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	// The response headers come once the consumer has subscribed this
	// stream, so that nothing sent afterwards can miss it.
	type result struct {
		resp *http.Response
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		got <- result{resp, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(s.opts.StepTimeout):
		cancel()
		return nil, fmt.Errorf("no answer from %s within %s", url, s.opts.StepTimeout)
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
	if r.err != nil {
		cancel()
		return nil, r.err
	}
	if r.resp.StatusCode != http.StatusOK || !strings.HasPrefix(r.resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(r.resp.Body)
		r.resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%s: %s %s", r.resp.Status, r.resp.Header.Get("Content-Type"), body)
	}
	st := &stream{cancel: cancel, lines: make(chan string, 1024)}
	go func() {
		defer r.resp.Body.Close()
		defer close(st.lines)
		sc := bufio.NewScanner(r.resp.Body)
		for sc.Scan() {
			st.lines <- sc.Text()
		}
	}()
	return st, nil
}

func (st *stream) close() { st.cancel() }

// collect reads until n events came, and returns them with the raw text.
// Comment lines (keep-alives) are part of the text but not events.
func (st *stream) collect(ctx context.Context, n int, timeout time.Duration) ([]string, string, error) {
	var events []string
	var raw strings.Builder
	var data []string
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(events) < n {
		select {
		case l, ok := <-st.lines:
			if !ok {
				return events, raw.String(), fmt.Errorf("the stream ended after %d of %d messages", len(events), n)
			}
			raw.WriteString(l + "\n")
			switch {
			case l == "":
				if data != nil {
					events = append(events, strings.Join(data, "\n"))
					data = nil
				}
			case strings.HasPrefix(l, "data:"):
				data = append(data, strings.TrimPrefix(l, "data:"))
			}
		case <-timer.C:
			return events, raw.String(), fmt.Errorf("%d of %d messages after %s", len(events), n, timeout)
		case <-ctx.Done():
			return events, raw.String(), ctx.Err()
		}
	}
	return events, raw.String(), nil
}
