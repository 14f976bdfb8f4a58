package testbroker

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/svcat-io/svcat/internal/osb"
)

const maxRequestBody = 1 << 20

// route is what the URL says about a request.
type route struct {
	op                    osb.Operation
	instanceID, bindingID string
}

var (
	instanceOps = map[string]osb.Operation{
		http.MethodPut: osb.OpProvision, http.MethodPatch: osb.OpUpdate,
		http.MethodDelete: osb.OpDeprovision, http.MethodGet: osb.OpGetInstance,
	}
	bindingOps = map[string]osb.Operation{
		http.MethodPut: osb.OpBind, http.MethodDelete: osb.OpUnbind, http.MethodGet: osb.OpGetBinding,
	}
)

// parseRoute maps an OSB path to its operation; ok is false for anything
// else.
func parseRoute(method, escapedPath string) (rt route, ok bool) {
	rest, found := strings.CutPrefix(escapedPath, "/v2/")
	if !found {
		return route{}, false
	}
	seg := strings.Split(rest, "/")
	for i, s := range seg {
		if seg[i], ok = unescape(s); !ok {
			return route{}, false
		}
	}
	n := len(seg)
	switch {
	case n == 1 && seg[0] == "catalog" && method == http.MethodGet:
		return route{op: osb.OpGetCatalog}, true
	case n < 2 || seg[0] != "service_instances":
		return route{}, false
	case n == 2:
		op := instanceOps[method]
		return route{op: op, instanceID: seg[1]}, op != ""
	case n == 3 && seg[2] == "last_operation" && method == http.MethodGet:
		return route{op: osb.OpPollLastOperation, instanceID: seg[1]}, true
	case n < 4 || seg[2] != "service_bindings":
		return route{}, false
	case n == 4:
		op := bindingOps[method]
		return route{op: op, instanceID: seg[1], bindingID: seg[3]}, op != ""
	case n == 5 && seg[4] == "last_operation" && method == http.MethodGet:
		return route{op: osb.OpPollBindingLastOperation, instanceID: seg[1], bindingID: seg[3]}, true
	}
	return route{}, false
}

func unescape(s string) (string, bool) {
	u, err := url.PathUnescape(s)
	return u, err == nil && u != ""
}

// input is a decoded request: route, query and body together.
type input struct {
	route
	requestBody
	acceptsIncomplete bool
	operation         string
	// present lists the top-level fields the body has, to tell a missing
	// field from an empty one.
	present map[string]json.RawMessage
}

// requestBody is the union of the OSB request bodies.
type requestBody struct {
	ServiceID            string               `json:"service_id"`
	PlanID               string               `json:"plan_id"`
	OrganizationGUID     string               `json:"organization_guid"`
	SpaceGUID            string               `json:"space_guid"`
	Context              map[string]any       `json:"context"`
	Parameters           map[string]any       `json:"parameters"`
	MaintenanceInfo      *osb.MaintenanceInfo `json:"maintenance_info"`
	PreviousValues       map[string]any       `json:"previous_values"`
	AppGUID              string               `json:"app_guid"`
	BindResource         *osb.BindResource    `json:"bind_resource"`
	PredecessorBindingID string               `json:"predecessor_binding_id"`
}

// reply is an answer before it is written.
type reply struct {
	status     int
	body       any
	raw        []byte
	retryAfter string
	drop       bool
}

func fail(status int, code, description string) reply {
	body := map[string]any{}
	if code != "" {
		body["error"] = code
	}
	if description != "" {
		body["description"] = description
	}
	return reply{status: status, body: body}
}

func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	rt, known := parseRoute(r.Method, r.URL.EscapedPath())
	b.record(r, rt, body)
	if id := r.Header.Get("X-Broker-API-Request-Identity"); id != "" && !b.hasFault(FaultNoRequestIdentityEcho) {
		w.Header().Set("X-Broker-API-Request-Identity", id)
	}
	var rep reply
	switch {
	case !b.authorized(r):
		rep = fail(http.StatusUnauthorized, "", "missing or wrong credentials")
		if !b.hasFault(FaultNoWWWAuthenticate) {
			w.Header().Set("WWW-Authenticate", b.challenge())
		}
	case !b.versionAccepted(r.Header.Get("X-Broker-API-Version")):
		rep = fail(http.StatusPreconditionFailed, "", "X-Broker-API-Version 2.x is required")
	case !known:
		rep = fail(http.StatusNotFound, "", "no such OSB endpoint")
	case r.Header.Get("X-Broker-API-Originating-Identity") != "" && b.hasFault(FaultRejectOriginating):
		rep = fail(http.StatusBadRequest, "", "X-Broker-API-Originating-Identity is not accepted")
	default:
		rep = b.serve(r, rt, body)
	}
	if rep.status >= 400 && b.hasFault(FaultErrorBodyMessage) {
		if m, ok := rep.body.(map[string]any); ok && m["description"] != nil {
			m["message"] = m["description"]
			delete(m, "description")
		}
	}
	if rep.drop {
		drop(w)
		return
	}
	write(w, rep)
}

func (b *Broker) authorized(r *http.Request) bool {
	b.mu.Lock()
	a := b.auth
	b.mu.Unlock()
	if a.BearerToken != "" {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && equal(token, a.BearerToken)
	}
	user, pass, ok := r.BasicAuth()
	if ok && equal(user, a.Username) && equal(pass, a.Password) {
		return true
	}
	if r.Header.Get("Authorization") == "" {
		return b.hasFault(FaultAcceptMissingAuth)
	}
	return b.hasFault(FaultAcceptWrongAuth)
}

func (b *Broker) versionAccepted(v string) bool {
	switch {
	case strings.HasPrefix(v, "2."):
		return true
	case v == "":
		return b.hasFault(FaultAcceptMissingVersion)
	}
	return b.hasFault(FaultAcceptOldVersion)
}

// challenge is the WWW-Authenticate a 401 must carry (RFC 7235 section 3.1).
func (b *Broker) challenge() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.auth.BearerToken != "" {
		return `Bearer realm="testbroker"`
	}
	return `Basic realm="testbroker"`
}

// equal compares digests so the time taken does not reveal the secret.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

func (b *Broker) serve(r *http.Request, rt route, body []byte) reply {
	q := r.URL.Query()
	in := &input{route: rt, acceptsIncomplete: q.Get("accepts_incomplete") == "true", operation: q.Get("operation")}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &in.requestBody); err != nil {
			var syntax *json.SyntaxError
			if isSyntax := errors.As(err, &syntax); isSyntax && b.hasFault(FaultMalformed422) || !isSyntax && b.hasFault(FaultNonObject422) {
				return fail(http.StatusUnprocessableEntity, "", "request body is not a JSON object")
			}
			return fail(http.StatusBadRequest, "", "request body is not a JSON object")
		}
		_ = json.Unmarshal(body, &in.present)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodDelete {
		in.ServiceID, in.PlanID = q.Get("service_id"), q.Get("plan_id")
	}

	b.mu.Lock()
	rule := b.match(b.selector(in))
	var rep reply
	if rule.Status >= 400 {
		if rule.ApplyFirst {
			b.dispatch(in, Rule{})
		}
		rep = fail(rule.Status, rule.ErrorCode, rule.Description)
	} else {
		rep = b.dispatch(in, rule)
		if rule.Status != 0 {
			rep.status = rule.Status
		}
	}
	if rule.RetryAfter != "" {
		rep.retryAfter = rule.RetryAfter
	}
	if b.faulty(FaultBadRetryAfter) && (in.op == osb.OpPollLastOperation || in.op == osb.OpPollBindingLastOperation) {
		rep.retryAfter = "soon"
	}
	rep.drop = rule.Drop
	rep = mangle(rep, rule)
	b.mu.Unlock()
	// The work is recorded on receipt and only the answer is slow, as the
	// spec expects of a broker (a DELETE that arrives meanwhile must find,
	// and halt, what the slow request started).
	if rule.Hang > 0 {
		b.hang(rule.Hang)
	}
	return rep
}

// selector fills in service and plan from the broker's records when the
// request does not carry them, so rules by plan match every operation.
func (b *Broker) selector(in *input) selector {
	s := selector{op: in.op, serviceID: in.ServiceID, planID: in.PlanID, instanceID: in.instanceID, bindingID: in.bindingID}
	if i, ok := b.instances[in.instanceID]; ok {
		s.serviceID = cmp(s.serviceID, i.ServiceID)
		s.planID = cmp(s.planID, i.PlanID)
	}
	return s
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (b *Broker) hang(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.stopChan():
	}
}

func (b *Broker) dispatch(in *input, r Rule) reply {
	switch in.op {
	case osb.OpGetCatalog:
		return reply{status: http.StatusOK, raw: b.catJSON}
	case osb.OpProvision:
		return b.provision(in, r)
	case osb.OpUpdate:
		return b.update(in, r)
	case osb.OpDeprovision:
		return b.deprovision(in, r)
	case osb.OpGetInstance:
		return b.getInstance(in)
	case osb.OpPollLastOperation:
		return b.pollInstance(in)
	case osb.OpBind:
		return b.bind(in, r)
	case osb.OpUnbind:
		return b.unbind(in, r)
	case osb.OpGetBinding:
		return b.getBinding(in)
	case osb.OpPollBindingLastOperation:
		return b.pollBinding(in)
	}
	return fail(http.StatusNotFound, "", "no such OSB endpoint")
}

// mangle applies the rule's body damage to an otherwise correct reply.
func mangle(rep reply, r Rule) reply {
	if r.Body != nil {
		rep.raw = r.Body
		return rep
	}
	if !r.Malformed && r.PadBytes <= 0 {
		return rep
	}
	body := encode(rep)
	if r.PadBytes > 0 && len(body) >= 2 && body[0] == '{' {
		pad := `{"x-padding":"` + strings.Repeat("x", r.PadBytes) + `"`
		if rest := bytes.TrimSpace(body[1:]); !bytes.Equal(rest, []byte("}")) {
			pad += ","
		}
		body = append([]byte(pad), body[1:]...)
	}
	if r.Malformed {
		// Half a JSON object never parses.
		body = body[:len(body)/2]
	}
	rep.raw = body
	return rep
}

func encode(rep reply) []byte {
	if rep.raw != nil {
		return rep.raw
	}
	if rep.body == nil {
		return []byte("{}")
	}
	body, err := json.Marshal(rep.body)
	if err != nil {
		return []byte("{}")
	}
	return body
}

// drop closes the connection under the handler. If hijacking is not
// possible the handler panics with ErrAbortHandler, which net/http turns
// into a silently closed connection as well.
func drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

func write(w http.ResponseWriter, rep reply) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if rep.retryAfter != "" {
		h.Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(encode(rep))
}
