package embedded

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// frontListener terminates TLS itself, instead of leaving it to kfake, so
// that saslFront sees the Kafka protocol in the clear.
type frontListener struct {
	net.Listener
	tls  *tls.Config
	idle time.Duration
}

// kafkaIdleTimeout is Kafka's connections.max.idle.ms default. kfake has
// none, so a client that connects and sends nothing, before login too,
// would hold its goroutines for good.
const kafkaIdleTimeout = 10 * time.Minute

func (l frontListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &frontConn{Conn: tls.Server(c, l.tls), front: newSASLFront(), idle: l.idle}, nil
}

// frontConn is the connection kfake reads requests from and writes answers
// to; it passes both through the connection's saslFront.
type frontConn struct {
	net.Conn
	mu    sync.Mutex // kfake reads and writes from two goroutines
	front *saslFront
	in    []byte // of the current request, what kfake has not read yet
	// through is how much of the current request kfake may read straight
	// from the connection, after c.in.
	through int
	hdr     [12]byte // a request's length, key, version and correlation ID
	out     []byte   // the start of an answer kfake wrote in pieces
	once    sync.Once
	idle    time.Duration
}

// failedLoginWriteTimeout bounds how long a client that does not read can
// hold the connection open after a failed login.
const failedLoginWriteTimeout = 5 * time.Second

func (c *frontConn) Read(p []byte) (int, error) {
	// Only kfake's reading goroutine touches c.in, c.hdr and c.through.
	if len(c.in) == 0 && c.through == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if len(c.in) > 0 {
		n := copy(p, c.in)
		c.in = c.in[n:]
		return n, nil
	}
	if len(p) > c.through {
		p = p[:c.through]
	}
	n, err := c.Conn.Read(p)
	c.through -= n
	return n, err
}

// next reads the start of the client's next frame. Its length is checked
// before anything is allocated: kfake would allocate whatever it says. A
// request that has nothing to do with login is passed on as it arrives,
// without being held in memory twice.
func (c *frontConn) next() error {
	// The deadline covers the whole request, so a client that trickles
	// one in is bounded too.
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return err
	}
	if _, err := io.ReadFull(c.Conn, c.hdr[:4]); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(c.hdr[:4]))
	c.mu.Lock()
	limit, raw := c.front.maxFrameSize(), c.front.raw
	c.mu.Unlock()
	if n > limit {
		return fmt.Errorf("kafka request of %d bytes: at most %d bytes are allowed here", n, limit)
	}
	head := 4
	if !raw && n >= 8 { // key, version, correlation ID
		head = len(c.hdr)
		if _, err := io.ReadFull(c.Conn, c.hdr[4:]); err != nil {
			return err
		}
		if !loginKey(int16(binary.BigEndian.Uint16(c.hdr[4:6]))) {
			c.in, c.through = c.hdr[:], n-8
			return nil
		}
	}
	frm := make([]byte, 4+n)
	copy(frm, c.hdr[:head])
	if _, err := io.ReadFull(c.Conn, frm[head:]); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	c.in, err = c.front.fromClient(frm)
	return err
}

// Write takes kfake's answers, which it writes one whole frame per call;
// pieces are put together all the same.
func (c *frontConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if len(c.out) == 0 && !c.front.interesting() {
		c.mu.Unlock()
		return c.write(b)
	}
	c.out = append(c.out, b...)
	var send []byte
	for len(c.out) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < n {
			break
		}
		frm, err := c.front.fromServer(c.out[:n:n])
		if err != nil {
			c.mu.Unlock()
			c.Conn.Close()
			return 0, err
		}
		send = append(send, frm...)
		c.out = c.out[n:]
	}
	if len(c.out) == 0 {
		c.out = nil
	}
	c.mu.Unlock()
	if _, err := c.write(send); err != nil {
		return 0, err
	}
	return len(b), nil
}

// write gives an answer as long as a request may take to arrive: a client
// that sends and never reads would otherwise block kfake's writer for good,
// with the answers to whatever it sends next queued behind it. Kafka too
// closes a connection whose answers do not drain once it has been idle for
// connections.max.idle.ms.
func (c *frontConn) write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Close answers a SaslAuthenticate that kfake refused by closing the
// connection as Kafka would have: with SASL_AUTHENTICATION_FAILED.
func (c *frontConn) Close() error {
	var err error
	c.once.Do(func() {
		c.mu.Lock()
		answer := c.front.failedLogin()
		c.mu.Unlock()
		if answer != nil {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(failedLoginWriteTimeout))
			_, _ = c.Conn.Write(answer) // the client may be gone already
		}
		err = c.Conn.Close()
	})
	return err
}
