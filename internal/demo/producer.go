package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// maxMessage bounds a POST body; the duck plan keeps 10MB per topic.
const maxMessage = 1 << 20

// RunProducer is the producer's main: POST /messages sends the body to the
// tenant's default topic, GET /healthz answers ok.
func RunProducer(ctx context.Context, env Env) error {
	cfg, err := parse("demo-kafka-producer", env)
	if err != nil {
		return err
	}
	conn, err := NewConn(ctx, cfg.load, cfg.log)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg.log.Info("producing", slog.String("topic", cfg.creds.Topic()), slog.String("user", cfg.creds.Username))
	return serve(ctx, "demo-kafka-producer", cfg, env, ProducerHandler(conn, cfg.creds.Topic(), cfg.log))
}

// ProducerHandler serves the producer's HTTP API with a connected client.
func ProducerHandler(conn *Conn, topic string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		// Through Do, as the consumer's: once the old user is deleted a
		// check on a new connection is refused, and without reading the
		// binding again the pod would stay unready, out of its Service,
		// and never get the request that would have made it read it.
		if err := conn.Do(ctx, func(cl *kgo.Client) error { return cl.Ping(ctx) }); err != nil {
			http.Error(w, "kafka: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessage))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if len(body) == 0 {
			http.Error(w, "empty message: send the text as the request body", http.StatusBadRequest)
			return
		}
		var rec *kgo.Record
		err = conn.Do(r.Context(), func(cl *kgo.Client) error {
			rec = &kgo.Record{Topic: topic, Value: body}
			return cl.ProduceSync(r.Context(), rec).FirstErr()
		})
		if err != nil {
			log.Error("produce failed", slog.String("topic", topic), slog.Any("err", err))
			http.Error(w, "producing to "+topic+": "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Like the seed's producer, answer with what was sent where.
		fmt.Fprintf(w, "sent %q to %s (partition %d, offset %d)\n", body, rec.Topic, rec.Partition, rec.Offset)
	})
	return mux
}
