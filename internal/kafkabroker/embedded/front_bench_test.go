package embedded

import (
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// What the front costs a logged-in connection, against reading and writing
// the same frames on the bare connection: kfake reads a request as its
// length and then its body, and writes each answer in one call.
//
//	go test -run XXX -bench Front -benchmem ./internal/kafkabroker/embedded/

// endlessConn reads one frame over and over and discards what is written.
type endlessConn struct {
	net.Conn
	frame []byte
	off   int
}

func (c *endlessConn) Read(p []byte) (int, error) {
	n := copy(p, c.frame[c.off:])
	c.off = (c.off + n) % len(c.frame)
	return n, nil
}

func (c *endlessConn) Write(p []byte) (int, error) { return len(p), nil }

func produceFrame(b *testing.B, size int) []byte {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	t := kmsg.NewProduceRequestTopic()
	t.Topic = "svcat-i.default"
	p := kmsg.NewProduceRequestTopicPartition()
	p.Records = make([]byte, size)
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	frm := kmsg.NewRequestFormatter(kmsg.FormatterClientID("bench")).AppendRequest(nil, req, 1)
	if binary.BigEndian.Uint32(frm) != uint32(len(frm)-4) {
		b.Fatal("bad frame")
	}
	return frm
}

func readRequests(b *testing.B, conn net.Conn, frameLen int) {
	b.SetBytes(int64(frameLen))
	b.ReportAllocs()
	size := make([]byte, 4)
	for b.Loop() {
		if _, err := io.ReadFull(conn, size); err != nil {
			b.Fatal(err)
		}
		body := make([]byte, binary.BigEndian.Uint32(size))
		if _, err := io.ReadFull(conn, body); err != nil {
			b.Fatal(err)
		}
	}
}

func loggedIn(conn net.Conn) *frontConn {
	f := &frontConn{Conn: conn, front: newSASLFront()}
	f.front.authed = true
	return f
}

func BenchmarkFrontRequests64KiB(b *testing.B) {
	frm := produceFrame(b, 64<<10)
	b.Run("bare", func(b *testing.B) { readRequests(b, &endlessConn{frame: frm}, len(frm)) })
	b.Run("front", func(b *testing.B) { readRequests(b, loggedIn(&endlessConn{frame: frm}), len(frm)) })
}

func BenchmarkFrontAnswers1MiB(b *testing.B) {
	frm := make([]byte, 1<<20)
	binary.BigEndian.PutUint32(frm, uint32(len(frm)-4))
	write := func(b *testing.B, conn net.Conn) {
		b.SetBytes(int64(len(frm)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Write(frm); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { write(b, &endlessConn{frame: frm}) })
	b.Run("front", func(b *testing.B) { write(b, loggedIn(&endlessConn{frame: frm})) })
}
