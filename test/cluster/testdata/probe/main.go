// Command probe runs in the cluster test's pods: what a pod does that a test
// must see work (serve HTTP, resolve names, call the API server with its
// service-account token, fetch a URL). The image has no shell, so each
// check is one subcommand run with kubectl exec.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: probe serve ADDR | resolve NAME | whoami | get URL"))
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(arg(2))
	case "resolve":
		err = resolve(arg(2))
	case "whoami":
		err = whoami()
	case "get":
		err = get(arg(2))
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func arg(i int) string {
	if len(os.Args) <= i {
		fail(fmt.Errorf("%s needs an argument", os.Args[1]))
	}
	return os.Args[i]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "probe:", err)
	os.Exit(1)
}

// serve answers every request with the pod's name, and exits on SIGTERM
// (as PID 1 nothing else would stop it).
func serve(addr string) error {
	name, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", name)
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("probe: serving on %s\n", l.Addr())
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
		os.Exit(0)
	}()
	return http.Serve(l, nil)
}

func resolve(name string) error {
	addrs, err := net.LookupHost(name)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return nil
}

// whoami asks the API server, through the kubernetes Service's DNS name and
// with the pod's service-account token, who the pod is.
func whoami() error {
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return fmt.Errorf("no certificate in %s/ca.crt", saDir)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
	req, err := http.NewRequest(http.MethodPost, "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(token)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, out)
	}
	_, err = os.Stdout.Write(out)
	return err
}

func get(url string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, out)
	}
	_, err = os.Stdout.Write(out)
	return err
}
