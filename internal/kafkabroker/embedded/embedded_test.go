package embedded

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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
	opts := append(a.ClientOpts(a.AdminUser(), a.AdminPassword()), kgo.DialTLSConfig(b.TLSConfig()))
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

// The broker reaches its own embedded Kafka even when the advertised name
// does not resolve from where it runs (a Service not yet routing to it).
func TestAdminDialsLocally(t *testing.T) {
	c, err := Start(Config{ListenHost: "0.0.0.0", AdvertiseHost: "kafka.invalid"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if addrs := c.Addrs(); len(addrs) != 1 || !strings.HasPrefix(addrs[0], "kafka.invalid:") {
		t.Fatalf("advertised %v", addrs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := kgo.NewClient(c.AdminOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Metadata names the advertised host; later requests must still work.
	if _, err := admin.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatalf("admin metadata: %v", err)
	}
	if err := admin.Ping(ctx); err != nil {
		t.Fatalf("admin ping: %v", err)
	}
	outside, err := kgo.NewClient(c.ClientOpts(c.AdminUser(), c.AdminPassword())...)
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if err := outside.Ping(short); err == nil {
		t.Fatal("a client without the local dialer reached kafka.invalid")
	}
}
