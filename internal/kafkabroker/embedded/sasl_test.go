package embedded

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// These tests speak the Kafka protocol byte by byte, as clients written in
// other languages do, and check what Kafka itself answers.

type rawClient struct {
	t    *testing.T
	conn net.Conn
	corr int32
	fmt  *kmsg.RequestFormatter
}

func dialRaw(t *testing.T, c *Cluster) *rawClient {
	t.Helper()
	conn, err := tls.Dial("tcp", c.Addrs()[0], c.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// Every answer here comes at once; the deadline only stops a broken
	// server from hanging the test.
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, conn: conn, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))}
}

// roundTrip sends req and reads its answer into a new response, or returns
// the read error (io.EOF when the server closed the connection).
func (r *rawClient) roundTrip(req kmsg.Request) (kmsg.Response, error) {
	r.corr++
	if _, err := r.conn.Write(r.fmt.AppendRequest(nil, req, r.corr)); err != nil {
		return nil, err
	}
	body, err := r.readFrame()
	if err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != r.corr {
		r.t.Fatalf("correlation ID %d, want %d", got, r.corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		r.t.Fatalf("reading %s answer: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}

func (r *rawClient) readFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r.conn, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(r.conn, body)
	return body, err
}

func (r *rawClient) handshake(version int16, mech string) *kmsg.SASLHandshakeResponse {
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version, req.Mechanism = version, mech
	resp, err := r.roundTrip(req)
	if err != nil {
		r.t.Fatalf("SaslHandshake v%d: %v", version, err)
	}
	return resp.(*kmsg.SASLHandshakeResponse)
}

func (r *rawClient) authenticate(msg []byte) (*kmsg.SASLAuthenticateResponse, error) {
	req := kmsg.NewPtrSASLAuthenticateRequest()
	req.Version, req.SASLAuthBytes = 2, msg
	resp, err := r.roundTrip(req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.SASLAuthenticateResponse), nil
}

func startCluster(t *testing.T) *Cluster {
	t.Helper()
	return startClusterWith(t, Config{})
}

func startClusterWith(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	c, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func scramSession(t *testing.T, user, pass string) (sasl.Session, []byte) {
	t.Helper()
	s, first, err := scram.Auth{User: user, Pass: pass}.AsSha512Mechanism().Authenticate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return s, first
}

// kafkajs, kafka-python and aiokafka refuse to log in when a successful
// handshake does not list the mechanism they asked for.
func TestHandshakeListsMechanisms(t *testing.T) {
	c := startCluster(t)
	r := dialRaw(t, c)
	resp := r.handshake(1, "SCRAM-SHA-512")
	if resp.ErrorCode != 0 || !slices.Contains(resp.SupportedMechanisms, "SCRAM-SHA-512") {
		t.Fatalf("handshake answered error %d, mechanisms %q; want success listing SCRAM-SHA-512", resp.ErrorCode, resp.SupportedMechanisms)
	}
}

// Older librdkafka (Debian's 2.0.2, so kcat) turns SASL on only when
// SaslHandshake version 0 is advertised.
func TestApiVersionsAdvertiseHandshakeV0(t *testing.T) {
	c := startCluster(t)
	r := dialRaw(t, c)
	for _, v := range []int16{0, 3} { // a plain and a flexible answer
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = v, "raw-test", "1"
		resp, err := r.roundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		av := resp.(*kmsg.ApiVersionsResponse)
		var found bool
		for _, k := range av.ApiKeys {
			if k.ApiKey == int16(kmsg.SASLHandshake) {
				found = true
				if k.MinVersion != 0 || k.MaxVersion != 1 {
					t.Errorf("ApiVersions v%d: SaslHandshake %d..%d, want 0..1", v, k.MinVersion, k.MaxVersion)
				}
			}
		}
		if !found || len(av.ApiKeys) < 40 {
			t.Fatalf("ApiVersions v%d lists %d keys, SaslHandshake found: %v", v, len(av.ApiKeys), found)
		}
	}
}

// Handshake version 0 is followed by bare SASL tokens (a length and the
// bytes), as kafka-python 2.0 sends them, and then by Kafka requests.
func TestHandshakeV0BareScramExchange(t *testing.T) {
	c := startCluster(t)
	r := dialRaw(t, c)
	if resp := r.handshake(0, "SCRAM-SHA-512"); resp.ErrorCode != 0 || len(resp.SupportedMechanisms) == 0 {
		t.Fatalf("handshake v0 answered error %d, mechanisms %q", resp.ErrorCode, resp.SupportedMechanisms)
	}
	session, msg := scramSession(t, c.AdminUser(), c.AdminPassword())
	for done := false; !done; {
		if _, err := r.conn.Write(frame(msg)); err != nil {
			t.Fatal(err)
		}
		token, err := r.readFrame()
		if err != nil {
			t.Fatalf("reading the server's bare SCRAM token: %v", err)
		}
		if done, msg, err = session.Challenge(token); err != nil {
			t.Fatalf("server's SCRAM token %q: %v", token, err)
		}
	}
	if err := r.bigMetadata(); err != nil {
		t.Fatalf("a 1 MiB request after a v0 login: %v", err)
	}
}

// A wrong password is answered as Kafka answers it, so clients report
// invalid credentials rather than a broken connection.
func TestWrongPasswordIsAnAuthenticationError(t *testing.T) {
	c := startCluster(t)
	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", c.AdminUser(), "not-the-password"},
		{"unknown user", "nobody", "x"}, // refused at the first message
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, c)
			r.handshake(1, "SCRAM-SHA-512")
			session, msg := scramSession(t, tc.user, tc.pass)
			var resp *kmsg.SASLAuthenticateResponse
			for {
				var err error
				if resp, err = r.authenticate(msg); err != nil {
					t.Fatalf("the server closed the connection without an answer: %v", err)
				}
				if resp.ErrorCode != 0 {
					break
				}
				if _, msg, err = session.Challenge(resp.SASLAuthBytes); err != nil {
					t.Fatal(err)
				}
			}
			if !errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.SaslAuthenticationFailed) {
				t.Fatalf("error code %d, want SASL_AUTHENTICATION_FAILED (58)", resp.ErrorCode)
			}
			if resp.ErrorMessage == nil || !strings.Contains(*resp.ErrorMessage, "invalid credentials with SASL mechanism SCRAM-SHA-512") {
				t.Fatalf("error message %v", resp.ErrorMessage)
			}
			// Then the connection closes, as Kafka's does.
			if _, err := r.readFrame(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the failed login: %v, want EOF", err)
			}
		})
	}
}

// Before login a frame may be at most 512 KiB, as in Kafka: a length of
// 1 GiB closes the connection at once instead of making kfake allocate it
// and wait for the bytes.
func TestOversizedFrameBeforeLoginCloses(t *testing.T) {
	c := startCluster(t)
	r := dialRaw(t, c)
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], 1<<30)
	if _, err := r.conn.Write(size[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.readFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("after a 1 GiB length: %v, want the connection closed", err)
	}
}

// Whatever a client sends, and whatever answer follows, the front returns
// an error or frames; it never panics.
func FuzzSASLFront(f *testing.F) {
	fm := kmsg.NewRequestFormatter(kmsg.FormatterClientID("fuzz"))
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Mechanism = "SCRAM-SHA-512"
	f.Add(fm.AppendRequest(nil, hs, 1), []byte{0, 0, 0, 6, 0, 0, 0, 1, 0, 0})
	f.Add(fm.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1), []byte{0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, req, resp []byte) {
		if len(req) < 4 || len(resp) < 4 {
			return
		}
		s := newSASLFront()
		for range 2 { // the second pass may be the bare exchange
			if _, err := s.fromClient(append([]byte(nil), req...)); err != nil {
				return
			}
			if _, err := s.fromServer(append([]byte(nil), resp...)); err != nil {
				return
			}
			s.failedLogin()
		}
	})
}

// After login the bound is Kafka's 100 MiB: a request over the 512 KiB
// allowed before login is answered.
func TestLargeRequestAfterLogin(t *testing.T) {
	c := startCluster(t)
	r := dialRaw(t, c)
	r.handshake(1, "SCRAM-SHA-512")
	session, msg := scramSession(t, c.AdminUser(), c.AdminPassword())
	for done := false; !done; {
		resp, err := r.authenticate(msg)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("login: %v %v", err, resp)
		}
		if done, msg, err = session.Challenge(resp.SASLAuthBytes); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.bigMetadata(); err != nil {
		t.Fatalf("a 1 MiB request after login: %v", err)
	}
}

// bigMetadata asks about 16,384 topics with 64-byte names: a 1 MiB request.
func (r *rawClient) bigMetadata() error {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 9
	for i := range 1 << 14 {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(fmt.Sprintf("%064d", i))
		req.Topics = append(req.Topics, t)
	}
	resp, err := r.roundTrip(req)
	if err != nil {
		return err
	}
	if n := len(resp.(*kmsg.MetadataResponse).Topics); n != 1<<14 {
		return fmt.Errorf("%d topics answered", n)
	}
	return nil
}

// A connection that sends nothing is closed after the idle timeout, before
// login as after it, as Kafka closes one after connections.max.idle.ms.
func TestIdleConnectionCloses(t *testing.T) {
	c := startClusterWith(t, Config{IdleTimeout: 300 * time.Millisecond})
	r := dialRaw(t, c) // its 20 s deadline bounds the test if nothing closes
	if resp := r.handshake(1, "SCRAM-SHA-512"); resp.ErrorCode != 0 {
		t.Fatalf("handshake: %d", resp.ErrorCode)
	}
	if _, err := r.readFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("an idle connection: %v, want it closed", err)
	}
}

// A client that sends requests and never reads their answers cannot hold
// the connection, and the goroutines and answers queued behind it, for
// good: a write that cannot finish within the idle timeout closes it, as
// Kafka counts a connection whose answers do not drain as idle.
func TestClientThatDoesNotReadIsClosed(t *testing.T) {
	c := startClusterWith(t, Config{IdleTimeout: 500 * time.Millisecond})
	r := dialRaw(t, c) // its 20 s deadline bounds the test if nothing closes
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "raw", "1"
	var err error
	for r.corr = 1; err == nil; r.corr++ {
		_, err = r.conn.Write(r.fmt.AppendRequest(nil, req, r.corr))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("after %d requests whose answers were never read, the connection is still open: %v", r.corr, err)
	}
	t.Logf("closed after %d requests: %v", r.corr, err)
}
