package ui

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// openBrowser starts the desktop's browser on u, without waiting for it.
// $BROWSER wins, as for other command-line tools; on Linux a display is
// needed, so that a server over SSH prints the URL instead.
func openBrowser(ctx context.Context, u string) error {
	name, args, err := browserCommand(runtime.GOOS, os.Getenv, u)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		// Openers return at once; reap it, and do not let one that hangs
		// live past a minute.
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
		}
	}()
	return nil
}

// browserCommand picks the opener for an OS; pure, for tests.
func browserCommand(goos string, getenv func(string) string, u string) (string, []string, error) {
	if b := getenv("BROWSER"); b != "" {
		return b, []string{u}, nil
	}
	switch goos {
	case "darwin":
		return "open", []string{u}, nil
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", u}, nil
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return "", nil, errors.New("no display ($DISPLAY and $WAYLAND_DISPLAY are unset)")
	}
	return "xdg-open", []string{u}, nil
}
