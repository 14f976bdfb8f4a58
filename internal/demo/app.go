package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Env is what an app reads from its process: arguments, environment and
// output. Tests and the sandbox fill it in without a process of its own.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// Main runs an app as a process: flags from the command line, Ctrl-C or
// SIGTERM to stop, exit status 1 with the error on stderr.
func Main(name string, run func(context.Context, Env) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// config is what both apps parse from their flags and environment.
type config struct {
	listen string
	creds  Credentials
	// load reads the binding again (after a rotation).
	load func() (Credentials, error)
	log  *slog.Logger
}

func parse(name string, env Env) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	// SERVER_PORT is what the seed's Deployments set for the Spring apps.
	listen := ":8080"
	if p := env.getenv("SERVER_PORT"); p != "" {
		listen = ":" + p
	}
	fs.StringVar(&listen, "listen", listen, "address to serve HTTP on (default :$SERVER_PORT or :8080); the bound address is printed on stdout")
	root := fs.String("binding-root", env.getenv("SERVICE_BINDING_ROOT"), "servicebinding.io root holding the binding's Secret as files (default $SERVICE_BINDING_ROOT); empty reads $KAFKA_* variables")
	binding := fs.String("binding", env.getenv("SERVICE_BINDING_NAME"), "binding directory under the root (default: the one whose type is kafka)")
	if err := fs.Parse(env.Args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	src := Source{Root: *root, Name: *binding, Getenv: env.Getenv}
	creds, err := src.Load()
	if err != nil {
		return config{}, err
	}
	return config{listen: listen, creds: creds, load: src.Load, log: slog.New(slog.NewTextHandler(env.Stderr, nil))}, nil
}

// connect builds the client and checks the credentials once, so that a
// wrong password or CA stops the app at start instead of at its first
// request.
func connect(ctx context.Context, c Credentials, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.ClientOpts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("connecting to Kafka at %v as %s: %w", c.Brokers, c.Username, err)
	}
	return cl, nil
}

// serve answers on cfg.listen until ctx ends. It prints the bound address
// on stdout first, which is how the sandbox learns a port picked with :0.
func serve(ctx context.Context, name string, cfg config, env Env, h http.Handler) error {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s listening on http://%s\n", name, ln.Addr())
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Requests end with the app: open event streams never go idle, so
		// Shutdown alone would wait for them until its timeout.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// Streams have seen ctx end; give in-flight POSTs a moment.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
