package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake answers a client's login differently from Kafka in three ways that
// break common clients (kafkajs, kafka-python, Debian's librdkafka 2.0.2):
//
//   - a successful SaslHandshake carries no mechanism list, and clients that
//     check the list refuse to go on;
//   - SaslHandshake is served at version 1 only, so clients that need
//     version 0 advertised, or speak it, cannot log in;
//   - a failed SaslAuthenticate closes the connection instead of answering
//     SASL_AUTHENTICATION_FAILED, so users read "connection reset", not
//     "invalid credentials".
//
// kfake's control functions see only the request, not the connection's
// SASL state or the response kfake builds, so they cannot fix any of this.
// saslFront does it on the byte stream between the client and kfake: it
// reads whole frames in both directions and rewrites the few that concern
// login. Everything else passes unchanged. One saslFront serves one
// connection; it does no I/O, so frontConn can lock around it.
type saslFront struct {
	pending map[int32]pendingReq // requests whose answers need a look
	// raw is set once a version 0 handshake has succeeded: the client's
	// next frames are bare SASL tokens, which kfake only understands inside
	// SaslAuthenticate requests.
	raw      bool
	clientID *string
	// steps counts the successful SaslAuthenticate answers still needed
	// before the login is complete.
	steps  int
	authed bool
	mech   string
}

type pendingReq struct {
	key, version int16
	raw          bool // a bare token we wrapped: answer with a bare token
}

const (
	// Kafka's sasl.server.max.receive.size: what a client may send before
	// it has logged in. kfake itself allocates whatever a frame's length
	// says, up to 4 GiB, for anyone who connects.
	maxLoginFrame = 512 << 10
	// Kafka's socket.request.max.bytes default.
	maxFrame = 100 << 20
	// rawCorrelation is the correlation ID of the SaslAuthenticate requests
	// made from bare tokens; nothing else is in flight during that exchange.
	rawCorrelation = -0x5A5A
)

// enabledMechanisms is what kfake accepts in a handshake (and what it lists
// when it refuses one), so clients see one list either way.
var enabledMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// loginSteps is how many SaslAuthenticate round trips each mechanism takes.
func loginSteps(mech string) int {
	if mech == "PLAIN" {
		return 1
	}
	return 2 // SCRAM: client-first/server-first, client-final/server-final
}

func newSASLFront() *saslFront { return &saslFront{pending: map[int32]pendingReq{}} }

// maxFrameSize is the largest frame the client may send now.
func (f *saslFront) maxFrameSize() int {
	if f.authed {
		return maxFrame
	}
	return maxLoginFrame
}

// fromClient takes one frame from the client (its length first) and
// returns what kfake should read instead; usually the same frame.
func (f *saslFront) fromClient(frm []byte) ([]byte, error) {
	if f.raw {
		return f.wrapToken(frm[4:]), nil
	}
	r := kbin.Reader{Src: frm[4:]}
	key, version, corr := r.Int16(), r.Int16(), r.Int32()
	clientID := r.NullableString()
	if !r.Ok() {
		return nil, errors.New("kafka request header is truncated")
	}
	switch {
	case !loginKey(key):
	case key != int16(kmsg.SASLHandshake):
		f.pending[corr] = pendingReq{key: key, version: version}
	default:
		req := kmsg.NewPtrSASLHandshakeRequest()
		req.SetVersion(version)
		if err := req.ReadFrom(r.Src); err != nil {
			return nil, fmt.Errorf("SaslHandshake request: %w", err)
		}
		f.mech, f.clientID = req.Mechanism, clientID
		f.pending[corr] = pendingReq{key: key, version: version}
		if version == 0 {
			// v0 and v1 requests and answers are the same bytes; only
			// what follows a successful one differs, and that is ours to
			// handle.
			binary.BigEndian.PutUint16(frm[6:8], 1)
		}
	}
	return frm, nil
}

// loginKey reports whether the front needs to see a request with this key
// and its answer; all others pass through unread.
func loginKey(key int16) bool {
	switch kmsg.Key(key) {
	case kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate:
		return true
	}
	return false
}

// wrapToken turns a bare SASL token (after a v0 handshake) into the
// SaslAuthenticate v0 request kfake understands.
func (f *saslFront) wrapToken(token []byte) []byte {
	b := kbin.AppendInt16(nil, int16(kmsg.SASLAuthenticate))
	b = kbin.AppendInt16(b, 0)
	b = kbin.AppendInt32(b, rawCorrelation)
	b = kbin.AppendNullableString(b, f.clientID)
	b = kbin.AppendBytes(b, token)
	f.pending[rawCorrelation] = pendingReq{key: int16(kmsg.SASLAuthenticate), raw: true}
	return frame(b)
}

// fromServer takes one answer from kfake (its length first) and returns
// what the client should read instead; usually the same frame.
func (f *saslFront) fromServer(frm []byte) ([]byte, error) {
	if len(frm) < 8 {
		return nil, errors.New("kafka response is truncated")
	}
	body := frm[4:]
	corr := int32(binary.BigEndian.Uint32(body))
	p, ok := f.pending[corr]
	if !ok {
		return frm, nil
	}
	delete(f.pending, corr)
	switch {
	case p.raw:
		return f.unwrapToken(body[4:])
	case p.key == int16(kmsg.ApiVersions):
		return frame(advertiseHandshakeV0(body, p.version)), nil
	case p.key == int16(kmsg.SASLHandshake):
		return f.handshakeAnswer(body, p.version)
	default: // a framed SaslAuthenticate
		f.authenticated(authenticateSucceeded(body, p.version))
		return frm, nil
	}
}

// interesting reports whether fromServer could change anything now; when
// not, answers (fetches of many megabytes) pass without being looked at.
func (f *saslFront) interesting() bool { return len(f.pending) > 0 }

// handshakeAnswer lists the mechanisms in a successful handshake, as Kafka
// does, and starts the bare exchange after a v0 one.
func (f *saslFront) handshakeAnswer(body []byte, version int16) ([]byte, error) {
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.SetVersion(1) // kfake answered the v1 we asked for
	if err := resp.ReadFrom(body[4:]); err != nil {
		return nil, fmt.Errorf("SaslHandshake response: %w", err)
	}
	if resp.ErrorCode != 0 {
		return frame(body), nil
	}
	if len(resp.SupportedMechanisms) == 0 {
		resp.SupportedMechanisms = enabledMechanisms
	}
	f.steps = loginSteps(f.mech)
	f.raw = version == 0
	return frame(resp.AppendTo(body[:4:4])), nil
}

// unwrapToken answers a bare token with kfake's token, bare. Version 0 has
// no way to carry an error: Kafka closes the connection, and so do we.
func (f *saslFront) unwrapToken(resp []byte) ([]byte, error) {
	r := kmsg.NewPtrSASLAuthenticateResponse()
	r.SetVersion(0)
	if err := r.ReadFrom(resp); err != nil {
		return nil, fmt.Errorf("SaslAuthenticate response: %w", err)
	}
	if r.ErrorCode != 0 {
		return nil, fmt.Errorf("SASL authentication failed: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	f.authenticated(true)
	f.raw = f.steps > 0 // the exchange's last token returns to Kafka framing
	return kbin.AppendBytes(nil, r.SASLAuthBytes), nil
}

func (f *saslFront) authenticated(ok bool) {
	if !ok || f.steps == 0 {
		return
	}
	f.steps--
	if f.steps == 0 {
		f.authed = true
	}
}

// failedLogin is what the client should read when kfake closes the
// connection on a SaslAuthenticate it refused: Kafka's answer to a failed
// login. A bare-token exchange gets nothing, as from Kafka.
func (f *saslFront) failedLogin() []byte {
	for corr, p := range f.pending {
		if p.key != int16(kmsg.SASLAuthenticate) || p.raw {
			continue
		}
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		resp.SetVersion(p.version)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := fmt.Sprintf("Authentication failed during authentication due to invalid credentials with SASL mechanism %s", f.mech)
		resp.ErrorMessage = &msg
		b := kbin.AppendInt32(nil, corr)
		if resp.IsFlexible() {
			b = append(b, 0) // empty tagged fields of the response header
		}
		return frame(resp.AppendTo(b))
	}
	return nil
}

// advertiseHandshakeV0 lowers SaslHandshake's minimum version to 0 in an
// ApiVersions answer. Older librdkafka (Debian's 2.0.2; 2.11.1 does not
// mind) turns SASL on only when it sees version 0 there. Answers it cannot read are left as they are.
func advertiseHandshakeV0(body []byte, version int16) []byte {
	if len(body) < 6 || binary.BigEndian.Uint16(body[4:6]) != 0 {
		return body // an error answer, possibly at another version
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	if err := resp.ReadFrom(body[4:]); err != nil {
		return body
	}
	for i := range resp.ApiKeys {
		if resp.ApiKeys[i].ApiKey == int16(kmsg.SASLHandshake) {
			resp.ApiKeys[i].MinVersion = 0
		}
	}
	// ApiVersions answers never have a tagged header, even when flexible.
	return resp.AppendTo(body[:4:4])
}

// authenticateSucceeded reads a framed SaslAuthenticate answer's error code.
func authenticateSucceeded(body []byte, version int16) bool {
	off := 4
	if version >= 2 {
		off++ // the header's tagged fields; kfake writes none
	}
	return len(body) >= off+2 && binary.BigEndian.Uint16(body[off:off+2]) == 0
}

// frame prefixes a body with its length.
func frame(body []byte) []byte {
	out := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	return append(out, body...)
}
