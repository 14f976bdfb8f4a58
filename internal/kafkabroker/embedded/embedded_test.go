package embedded

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDataDirKeepsCAAndAdmin(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ca, pw := string(first.CAPEM()), first.AdminPassword()
	first.Close()

	second, err := Start(Config{DataDir: dir, AdvertiseHost: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if string(second.CAPEM()) != ca || second.AdminPassword() != pw {
		t.Fatal("CA or admin password changed across a restart with the same data directory")
	}
	if addrs := second.Addrs(); len(addrs) != 1 || !strings.HasPrefix(addrs[0], "localhost:") {
		t.Fatalf("advertised addresses %v", addrs)
	}
	// The server certificate must be valid for the advertised name, and the
	// admin must log in over TLS with the persisted password.
	cl, err := kgo.NewClient(second.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryClustersDiffer(t *testing.T) {
	a, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if string(a.CAPEM()) == string(b.CAPEM()) || a.AdminPassword() == b.AdminPassword() {
		t.Fatal("two clusters without a data directory share a CA or password")
	}
	// A client trusting b's CA must not accept a's certificate.
	opts := append(a.AdminOpts(), kgo.DialTLSConfig(b.TLSConfig()))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err == nil {
		t.Fatal("a cluster's certificate was accepted with another cluster's CA")
	}
}
