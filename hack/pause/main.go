// Command pause is the sandbox process of the one-node cluster's pods (CRI
// sandbox_image): it holds the pod's namespaces by staying alive, reaps the
// zombies of the pod's processes when it is their PID 1 (shared process
// namespace), and exits on SIGTERM or SIGINT. It is not shipped; `make
// images` writes its image as ociimage.PauseRef.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const version = "svcat pause 1"

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "-v" || os.Args[1] == "--version" {
			fmt.Println(version)
			return
		}
		fmt.Fprintf(os.Stderr, "pause: unexpected arguments %q (only -v)\n", os.Args[1:])
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

// reap collects every child that has exited. SIGCHLDs coalesce, so one
// signal may stand for several children: wait until none is left.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}
