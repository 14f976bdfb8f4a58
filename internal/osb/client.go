package osb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/svcat-io/svcat/internal/brokertext"
)

// Client talks to one broker. It is safe for concurrent use; create one per
// broker and Close it when the broker goes away.
type Client struct {
	base      *url.URL
	cfg       Config
	http      *http.Client
	transport *http.Transport
}

// New checks cfg and builds a client. Errors never repeat credentials.
func New(cfg Config) (*Client, error) {
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	hc, tr, err := cfg.httpClient()
	if err != nil {
		return nil, err
	}
	return &Client{base: base, cfg: cfg, http: hc, transport: tr}, nil
}

// Close drops idle connections, so replaced clients do not leak sockets.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// ResponseInfo is what every successful operation returns besides its body.
type ResponseInfo struct {
	StatusCode      int           `json:"-"`
	RequestIdentity string        `json:"-"`
	RetryAfter      time.Duration `json:"-"`
}

// Async reports a 202: the broker accepted the request and the caller must
// poll last_operation.
func (r ResponseInfo) Async() bool { return r.StatusCode == http.StatusAccepted }

func (r *ResponseInfo) setInfo(i ResponseInfo) { *r = i }

// run performs cl and returns its decoded body with the response info set.
func run[T any, PT interface {
	*T
	setInfo(ResponseInfo)
}](ctx context.Context, c *Client, cl call) (PT, error) {
	out := PT(new(T))
	info, err := c.do(ctx, cl, out)
	if err != nil {
		return nil, err
	}
	out.setInfo(info)
	return out, nil
}

// call is one request as the operations describe it.
type call struct {
	op     Operation
	method string
	path   []string // unescaped segments after /v2
	query  url.Values
	body   any
	user   *UserInfo
	// ok lists the statuses that are success for this operation.
	ok []int
	// requireBody makes an empty success body malformed: for the catalog,
	// "no body" must not read as "no services", which would retire every
	// class and plan of the broker.
	requireBody bool
	// limits, when set, bound a success body while it is read (the
	// catalog: see catalogScanner); MaxResponseBytes does not apply then.
	limits *CatalogLimits
	// hold, set for a catalog call when the client has a CatalogBudget,
	// is charged the answer's memory while it is read.
	hold *budgetHold
}

func (cl call) accepts(status int) bool { return slices.Contains(cl.ok, status) }

// do sends c and decodes a success body into out; every failure comes back as
// one of this package's error types.
func (c *Client) do(ctx context.Context, cl call, out any) (ResponseInfo, error) {
	info := ResponseInfo{RequestIdentity: uuid.NewString()}
	start := time.Now()
	status, header, body, err := c.roundTrip(ctx, cl, info.RequestIdentity)
	info.StatusCode = status
	if err == nil {
		info.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
		err = decode(cl, info, header, body, out)
	}
	if c.cfg.Observer != nil {
		c.cfg.Observer(RequestInfo{
			Operation: cl.op, StatusCode: status, Duration: time.Since(start),
			RequestIdentity: info.RequestIdentity, Err: err,
		})
	}
	return info, err
}

func (c *Client) roundTrip(ctx context.Context, cl call, id string) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := c.newRequest(ctx, cl, id)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, transportError(ctx, cl.op, id, err)
	}
	// Closing a body that was not read to the end closes the connection:
	// a refused answer stops arriving.
	defer resp.Body.Close()
	body, err := c.readAnswer(ctx, cl, resp)
	if err != nil {
		return resp.StatusCode, nil, nil, c.bodyError(ctx, cl, resp.StatusCode, id, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// readAnswer reads the answer within MaxResponseBytes, or within the call's
// limits when it has them and the status is a success.
func (c *Client) readAnswer(ctx context.Context, cl call, resp *http.Response) ([]byte, error) {
	if cl.limits == nil || !cl.accepts(resp.StatusCode) {
		return readBody(resp.Body, c.cfg.MaxResponseBytes, resp.ContentLength, nil, nil)
	}
	scan := newCatalogScanner(*cl.limits)
	var grow func(int64) error
	if cl.hold != nil {
		grow = func(n int64) error { return cl.hold.charge(ctx, n) }
	}
	body, err := readBody(resp.Body, cl.limits.MaxBytes, resp.ContentLength, scan, grow)
	if err == nil && scan.unchecked() && json.Valid(body) {
		// The scanner lost track of a body encoding/json accepts, so the
		// limits were not checked: refuse rather than decode it.
		return nil, &decodeError{"the body could not be checked against the catalog limits", scan.off}
	}
	if err == nil && cl.hold != nil {
		// Charged here, while the request's timeout still runs, so a
		// read that cannot get it in time fails like a slow broker.
		err = cl.hold.charge(ctx, decodedCost(int64(len(body)), scan.values))
	}
	return body, err
}

// bodyError turns a failure of readBody into this package's error types.
func (c *Client) bodyError(ctx context.Context, cl call, status int, id string, err error) error {
	var le *CatalogLimitError
	var be *CatalogBudgetError
	var de *decodeError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return &ResponseTooLargeError{cl.op, status, c.cfg.MaxResponseBytes, id}
	case errors.As(err, &le):
		le.RequestIdentity = id
		return le
	case errors.As(err, &be):
		be.RequestIdentity = id
		return be
	case errors.As(err, &de):
		return &MalformedResponseError{Operation: cl.op, StatusCode: status, RequestIdentity: id, Err: de}
	}
	return transportError(ctx, cl.op, id, err)
}

func (c *Client) newRequest(ctx context.Context, cl call, id string) (*http.Request, error) {
	u := *c.base
	segs := make([]string, len(cl.path))
	for i, s := range cl.path {
		if s == "" {
			// An empty ID would address the collection, not a resource.
			return nil, errors.New("osb " + string(cl.op) + ": empty ID in request")
		}
		segs[i] = url.PathEscape(s)
	}
	u.RawPath = c.base.EscapedPath() + "/v2/" + strings.Join(segs, "/")
	u.Path = c.base.Path + "/v2/" + strings.Join(cl.path, "/")
	u.RawQuery = encodeQuery(cl.query)

	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, errors.New("osb " + string(cl.op) + ": cannot encode request: " + err.Error())
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return nil, errors.New("osb " + string(cl.op) + ": cannot build request")
	}
	h := req.Header
	h.Set("X-Broker-API-Version", APIVersion)
	h.Set("X-Broker-API-Request-Identity", id)
	h.Set("Accept", "application/json")
	if cl.body != nil {
		h.Set("Content-Type", "application/json")
	}
	if cl.user != nil {
		v, err := cl.user.headerValue()
		if err != nil {
			return nil, err
		}
		h.Set("X-Broker-API-Originating-Identity", v)
	}
	switch {
	case c.cfg.BearerToken != "":
		h.Set("Authorization", "Bearer "+c.cfg.BearerToken)
	case c.cfg.Username != "" || c.cfg.Password != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	return req, nil
}

// encodeQuery percent-encodes: the spec asks for percent-encoding of the
// operation key, and url.Values.Encode writes spaces as '+'. A literal '+' is
// already escaped as %2B, so the replacement cannot change meaning.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// errorBody is the OSB error response.
type errorBody struct {
	Error            string `json:"error"`
	Description      string `json:"description"`
	InstanceUsable   *bool  `json:"instance_usable"`
	UpdateRepeatable *bool  `json:"update_repeatable"`
}

func decode(cl call, info ResponseInfo, header http.Header, body []byte, out any) error {
	if cl.accepts(info.StatusCode) {
		malformed := func(err error) error {
			return &MalformedResponseError{Operation: cl.op, StatusCode: info.StatusCode, RequestIdentity: info.RequestIdentity,
				Err: err, ContentType: nonJSONContentType(header)}
		}
		if out == nil || len(bytes.TrimSpace(body)) == 0 {
			if out != nil && cl.requireBody {
				return malformed(&decodeError{"empty body", -1})
			}
			// Brokers commonly send no body where the spec says {}; that
			// carries the same information.
			return nil
		}
		// A body that parses is accepted whatever its Content-Type, as
		// other OSB clients do: many brokers send text/plain. The type is
		// only reported when the body is not JSON, where it usually
		// explains why (an HTML error page from a proxy).
		if err := json.Unmarshal(body, out); err != nil {
			return malformed(jsonProblem(err))
		}
		return nil
	}
	e := &HTTPError{Operation: cl.op, StatusCode: info.StatusCode, RetryAfter: info.RetryAfter, RequestIdentity: info.RequestIdentity}
	if info.StatusCode >= 300 && info.StatusCode < 400 {
		e.RedirectHost = redirectHost(header)
	}
	var eb errorBody
	// A non-JSON error body is ignored rather than quoted: it may hold
	// anything, including secrets.
	if json.Unmarshal(body, &eb) == nil {
		// Cleaned here, where they enter, so that no copy into a
		// condition, an Event or a log line can forget it.
		e.ErrorCode, e.Description = brokertext.Clean(eb.Error, maxErrorCode), brokertext.Clean(eb.Description, brokertext.MaxBytes)
		e.InstanceUsable, e.UpdateRepeatable = eb.InstanceUsable, eb.UpdateRepeatable
	}
	return e
}

// jsonProblem keeps the kind and offset of a JSON error but drops any quoted
// value, which could be a credential.
func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var own *decodeError
	switch {
	case errors.As(err, &own):
		return own
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "exceeded max depth"):
		return &decodeError{"JSON nested more than 10000 levels deep", syn.Offset}
	case errors.As(err, &syn):
		return &decodeError{"invalid JSON", syn.Offset}
	case errors.As(err, &typ):
		// Value can be "number 1234"; keep only the type word.
		kind, _, _ := strings.Cut(typ.Value, " ")
		return &decodeError{"field " + jsonField(typ.Field) + " has JSON type " + kind, typ.Offset}
	}
	return &decodeError{"invalid JSON", -1}
}

// jsonField drops the names of embedded Go structs from a field path
// ("Binding.credentials" is "credentials" on the wire). Every JSON name in
// this package is lower case, so a capitalised segment is a Go name.
func jsonField(path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		if seg != "" && (seg[0] < 'A' || seg[0] > 'Z') {
			out = append(out, seg)
		}
	}
	if len(out) == 0 {
		return "(top level)"
	}
	return strings.Join(out, ".")
}

type decodeError struct {
	what   string
	offset int64
}

func (e *decodeError) Error() string {
	if e.offset < 0 {
		return e.what
	}
	return e.what + " at offset " + strconv.FormatInt(e.offset, 10)
}

// nonJSONContentType returns the response's media type when it is set and
// not JSON ("application/json" or a "+json" type), else "".
func nonJSONContentType(h http.Header) string {
	v := h.Get("Content-Type")
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return brokertext.Clean(v, 64)
	}
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		return ""
	}
	return brokertext.Clean(mt, 64)
}

// redirectHost is the host a redirect points at. Only the host: the rest of
// the Location may carry tokens.
func redirectHost(h http.Header) string {
	u, err := url.Parse(h.Get("Location"))
	if err != nil || u.Host == "" {
		return ""
	}
	return truncate(u.Host, 253)
}
