// Package ui is svcat ui: the catalog in a browser. A web server on
// 127.0.0.1 renders the marketplace, a provision form generated from each
// plan's schema, and instances and bindings with live status, and acts
// with the user's own kubeconfig: it can do nothing kubectl could not.
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/svcat-io/svcat/internal/cli/apiview"
)

//go:embed static
var staticFS embed.FS

// Bounds on what a browser can make the server do.
const (
	// maxBodyBytes bounds a posted form: parameters are at most
	// params.MaxParametersBytes of JSON, forms spell them less densely.
	maxBodyBytes   = 1 << 20
	requestTimeout = 30 * time.Second
	// maxStreams bounds concurrent live-status streams; each holds two
	// watches on the API server.
	maxStreams = 32
)

// Options configure a Server.
type Options struct {
	// Config reaches the API server as the user (their kubeconfig).
	Config *rest.Config
	// Namespace is where instances and bindings are shown and made, and
	// which namespaced classes and plans the marketplace shows.
	Namespace string
	// Scope limits the marketplace to cluster or namespaced offerings, as
	// svcat marketplace --scope does.
	Scope apiview.Scope
	// Context names the kubeconfig context, for the page header.
	Context string
}

// Server serves the UI on one listener.
type Server struct {
	opts    Options
	c       *apiview.Client
	wc      client.WithWatch
	guard   *guard
	pages   *pages
	streams chan struct{}
	mux     *http.ServeMux
}

// New prepares a server for the listener ln, whose address the Host check
// accepts.
func New(opts Options, ln net.Listener) (*Server, error) {
	if opts.Scope == "" {
		opts.Scope = apiview.AllScope
	}
	scheme, err := apiview.Scheme()
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(opts.Config)
	cfg.UserAgent = "svcat-ui"
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, c: apiview.New(wc), wc: wc, guard: newGuard(ln.Addr()), pages: p,
		streams: make(chan struct{}, maxStreams)}
	s.routes()
	return s, nil
}

// URL is the address to open, with the token that logs the browser in.
func (s *Server) URL(ln net.Listener) string {
	return "http://" + ln.Addr().String() + "/?" + tokenParam + "=" + url.QueryEscape(s.guard.token)
}

// Token is the one-run token, for tests that log in by hand.
func (s *Server) Token() string { return s.guard.token }

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Live streams extend their own deadline on every write.
		WriteTimeout:   time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		// Requests end with the server: live streams watch ctx.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	shutDown := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(shutDown)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	})
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		// Serve returns as Shutdown starts; let it finish.
		<-shutDown
		return nil
	}
	stop()
	return err
}

// ServeHTTP applies the guard to every request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if s.guard.login(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, fmt.Sprintf("the form is larger than the %d bytes allowed", maxBodyBytes), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "the form cannot be read: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if ref := s.guard.check(r); ref != nil {
		s.pages.refusal(w, ref)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	m.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, r *http.Request) {
		// Files only: no directory listings.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/marketplace", http.StatusSeeOther)
	})
	m.HandleFunc("GET /marketplace", s.timed(s.marketplace))
	m.HandleFunc("GET /provision", s.timed(s.provisionForm))
	m.HandleFunc("POST /provision", s.timed(s.provision))
	m.HandleFunc("GET /instances", s.timed(s.instances))
	m.HandleFunc("GET /instances/{name}", s.timed(s.instance))
	m.HandleFunc("GET /bindings", s.timed(s.bindings))
	m.HandleFunc("GET /bindings/{name}", s.timed(s.binding))
	m.HandleFunc("GET /shared/{namespace}/{name}", s.timed(s.shared))
	m.HandleFunc("POST /shared/{namespace}/{name}/bind", s.timed(s.bindShared))
	m.HandleFunc("GET /user-provided", s.timed(s.userProvidedForm))
	m.HandleFunc("POST /user-provided", s.timed(s.createUserProvided))
	for _, kind := range []string{kindInstances, kindBindings} {
		m.HandleFunc("GET /"+kind+"/{name}/{action}", s.timed(s.confirmAction(kind)))
		m.HandleFunc("POST /"+kind+"/{name}/{action}", s.timed(s.runAction(kind)))
	}
	m.HandleFunc("GET /live", s.live)
	s.mux = m
}

// timed bounds a page's API calls; live streams are not timed.
func (s *Server) timed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

// Run listens on addr (127.0.0.1:0 for a free port), prints the URL to out,
// opens a browser unless noBrowser, and serves until ctx ends.
func Run(ctx context.Context, opts Options, addr string, noBrowser bool, out io.Writer) error {
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	s, err := New(opts, ln)
	if err != nil {
		_ = ln.Close()
		return err
	}
	u := s.URL(ln)
	fmt.Fprintf(out, "svcat ui is serving namespace %q at\n\n  %s\n\nThe URL carries a one-run token: do not share it. Press Ctrl-C to stop.\n", opts.Namespace, u)
	if !noBrowser {
		if err := openBrowser(ctx, u); err != nil {
			fmt.Fprintf(out, "(no browser opened: %v; open the URL yourself)\n", err)
		}
	}
	return s.Serve(ctx, ln)
}

// CheckAddress refuses addresses other than loopback: the UI acts with
// the user's credentials and must not be reachable from the network.
func CheckAddress(addr string) error {
	_, err := loopback(addr)
	return err
}

func loopback(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid --address %q: use HOST:PORT, e.g. 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("invalid --address %q: the UI acts with your credentials, so it listens only on a loopback address such as 127.0.0.1", addr)
	}
	return net.JoinHostPort(host, port), nil
}

func listen(addr string) (net.Listener, error) {
	hp, err := loopback(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}
