package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no credentials", []string{"--embedded", "--embedded-port", "0"}, "credentials are required"},
		{"user without password", []string{"--embedded", "--username", "u"}, "both a broker username and a password"},
		{"no kafka", []string{"--username", "u", "--password", "p"}, "no Kafka bootstrap servers"},
		{"no kafka admin", []string{"--username", "u", "--password", "p", "--bootstrap-servers", "127.0.0.1:1"}, "admin user and password are required"},
		{"missing catalog", []string{"--catalog", "/nonexistent.yaml"}, "reading catalog"},
		{"unknown flag", []string{"--bogus"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BROKER_USERNAME", "")
			t.Setenv("BROKER_PASSWORD", "")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, append(tt.args, "--listen", "127.0.0.1:0", "--log-level", "error"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--embedded", "--embedded-port", "0", "--dev-insecure-no-auth", "--listen", addr, "--log-level", "error"})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the broker never became healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}
