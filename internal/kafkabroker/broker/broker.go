// Package broker implements the OSB API (brokerapi's domain.ServiceBroker)
// on top of the tenant model: instances are topic prefixes, bindings are
// SCRAM users, and the records of both live in the store topic.
//
// Every error meant for the platform is returned as an unwrapped
// *apiresponses.FailureResponse, because brokerapi recognises them only by
// type assertion; anything else becomes a 500.
package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"code.cloudfoundry.org/brokerapi/v13/domain"
	"code.cloudfoundry.org/brokerapi/v13/domain/apiresponses"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
	"github.com/svcat-io/svcat/internal/kafkabroker/store"
	"github.com/svcat-io/svcat/internal/kafkabroker/tenant"
)

// Kafka describes the cluster as bound applications see it.
type Kafka struct {
	BootstrapServers []string
	// CAPEM is the CA that signed the cluster's certificates; empty when
	// the cluster's certificates chain to a public root.
	CAPEM string
	// TLS is false only for clusters reached without TLS.
	TLS bool
}

// Config wires the broker.
type Config struct {
	Catalog *catalog.Catalog
	Store   *store.Store
	Admin   *tenant.Admin
	Names   tenant.Names
	Kafka   Kafka
	// Provider is the servicebinding.io `provider` credential.
	Provider string
	// DashboardURL, when set, is each instance's dashboard_url with
	// {instance_id} and {topic_prefix} filled in (CheckDashboardTemplate).
	DashboardURL string
	// AsyncDeprovisionTopics: a deprovision with more topics than this runs
	// in the background when the platform accepts that.
	AsyncDeprovisionTopics int
	// OperationTimeout bounds each operation, including its rollback.
	OperationTimeout time.Duration
	// MinAsyncDuration makes every background operation last at least
	// this long. Only tests set it: on the embedded Kafka a deprovision
	// ends before the first poll, and a platform's (or svcat broker
	// check's) handling of "in progress" would go unexercised.
	MinAsyncDuration time.Duration
	// ExpirySweepInterval is how often the broker looks for bindings whose
	// credentials expired and removes their users; 0: never (tests call
	// SweepExpired themselves).
	ExpirySweepInterval time.Duration
	// Now is the clock of expiry decisions; nil: time.Now. Tests set it.
	Now    func() time.Time
	Logger *slog.Logger
}

// Broker is the OSB service broker.
type Broker struct {
	cfg   Config
	locks locks
	log   *slog.Logger

	// ctx outlives requests: background deprovisions run on it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]string // instance ID → operation running here
}

var _ domain.ServiceBroker = (*Broker)(nil)

// New returns a broker; call Close to stop its background work.
func New(cfg Config) *Broker {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OperationTimeout == 0 {
		cfg.OperationTimeout = 2 * time.Minute
	}
	if cfg.Provider == "" {
		cfg.Provider = "svcat"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, running: map[string]string{}}
	if cfg.ExpirySweepInterval > 0 {
		b.startExpirySweep(cfg.ExpirySweepInterval)
	}
	return b
}

// Close stops background operations and waits for them; an interrupted
// deprovision stays marked in its record and resumes on the next poll.
func (b *Broker) Close() {
	b.cancel()
	b.wg.Wait()
}

// opContext detaches an operation from its request: a client that hangs up
// must not leave a half-made tenant behind, so the operation and its
// rollback run to the end within the operation timeout.
func (b *Broker) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), b.cfg.OperationTimeout)
}

// alongside makes a change in Kafka and writes the record of it at the same
// time, instead of one after the other: the write then costs the request
// nothing beyond the Kafka calls. When one of the two fails, the other is
// reverted (undoKafka, undoWrite; nil when there is nothing to revert).
//
// A crash between the two is healed by the platform's retry, because every
// operation finishes what a crash may leave: a repeated provision or bind
// re-makes the Kafka side of an existing record, and unbind and deprovision
// remove what the IDs name even without a record.
func alongside(kafka, write, undoKafka, undoWrite func() error) error {
	wrote := make(chan error, 1)
	go func() { wrote <- write() }()
	kerr := kafka()
	werr := <-wrote
	switch {
	case kerr == nil && werr == nil:
		return nil
	case kerr != nil && werr == nil && undoWrite != nil:
		if err := undoWrite(); err != nil {
			kerr = errors.Join(kerr, fmt.Errorf("reverting the record: %w", err))
		}
		return kerr
	case kerr == nil && werr != nil && undoKafka != nil:
		if err := undoKafka(); err != nil {
			werr = errors.Join(werr, fmt.Errorf("rolling back: %w", err))
		}
		return werr
	}
	return errors.Join(kerr, werr)
}

func failure(status int, action, format string, args ...any) error {
	return apiresponses.NewFailureResponse(fmt.Errorf(format, args...), status, action)
}

func badRequest(format string, args ...any) error {
	return failure(http.StatusBadRequest, "bad-request", format, args...)
}

func concurrencyError(instanceID string) error {
	return apiresponses.NewFailureResponseBuilder(
		fmt.Errorf("another operation on instance %s is in progress; retry later", instanceID),
		http.StatusUnprocessableEntity, "concurrent-operation",
	).WithErrorKey("ConcurrencyError").Build()
}

func paramError(err error) error {
	var pe *catalog.ParamError
	if errors.As(err, &pe) {
		return badRequest("%s", pe.Error())
	}
	return badRequest("%v", err)
}

// Services is GET /v2/catalog.
func (b *Broker) Services(context.Context) ([]domain.Service, error) {
	return b.cfg.Catalog.OSB(), nil
}

func (b *Broker) plan(serviceID, planID string) (*catalog.Plan, error) {
	p, ok := b.cfg.Catalog.Plan(serviceID, planID)
	if !ok {
		return nil, badRequest("plan %q is not a plan of service %q in this broker's catalog", planID, serviceID)
	}
	return p, nil
}

func (b *Broker) getInstance(ctx context.Context, id string) (*instanceRecord, error) {
	var r instanceRecord
	ok, err := b.cfg.Store.Get(ctx, instanceKey(id), &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

func (b *Broker) getBinding(ctx context.Context, instanceID, bindingID string) (*bindingRecord, error) {
	if err := b.cfg.Store.Sync(ctx); err != nil {
		return nil, err
	}
	return b.cachedBinding(instanceID, bindingID)
}

// cachedBinding reads a binding without syncing, right after a sync.
func (b *Broker) cachedBinding(instanceID, bindingID string) (*bindingRecord, error) {
	var r bindingRecord
	ok, err := b.cfg.Store.Cached(bindingKey(instanceID, bindingID), &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// instanceName is the platform's name for the instance when it sent one
// (the Kubernetes profile's instance_name), for the `name` credential.
func instanceName(rawContext json.RawMessage, fallback string) string {
	var c struct {
		InstanceName string `json:"instance_name"`
	}
	if json.Unmarshal(rawContext, &c) == nil && c.InstanceName != "" {
		return c.InstanceName
	}
	return fallback
}

// Provision is PUT /v2/service_instances/{instance_id}.
func (b *Broker) Provision(ctx context.Context, id string, d domain.ProvisionDetails, _ bool) (spec domain.ProvisionedServiceSpec, err error) {
	defer b.answer(&err, "provision", id)
	if err := tenant.CheckID("instance", id); err != nil {
		return spec, badRequest("%v", err)
	}
	plan, err := b.plan(d.ServiceID, d.PlanID)
	if err != nil {
		return spec, err
	}
	pc, err := requestContext(d.RawContext, d.SpaceGUID)
	if err != nil {
		return spec, badRequest("%v", err)
	}
	if err := checkMaintenance(plan, d.MaintenanceInfo); err != nil {
		return spec, err
	}
	params, err := b.cfg.Catalog.InstanceParams(d.PlanID, d.RawParameters)
	if err != nil {
		return spec, paramError(err)
	}
	release, ok := b.locks.try(id, true)
	if !ok {
		return spec, concurrencyError(id)
	}
	defer release()
	ctx, cancel := b.opContext(ctx)
	defer cancel()

	existing, err := b.getInstance(ctx, id)
	if err != nil {
		return spec, err
	}
	if existing != nil {
		switch checkContext(existing.Context, pc, true) {
		case contextDiffers:
			return spec, instanceOtherContext(id)
		case contextUnknown:
			return spec, instanceContextUnknown(id)
		}
		if existing.State != stateReady {
			return spec, concurrencyError(id)
		}
		if existing.ServiceID == d.ServiceID && existing.PlanID == d.PlanID && sameJSON(existing.Parameters, d.RawParameters) &&
			sameVersion(existing.Maintenance, d.MaintenanceInfo) {
			// The record is written alongside the topics, so a crash may
			// have left it without them: make sure they exist.
			if err := b.cfg.Admin.CreateTopics(ctx, tenant.TopicsFor(existing.Prefix, existing.Topics, plan.Limits, existing.TopicConfig)); err != nil {
				return spec, fmt.Errorf("provisioning instance %s: %w", id, err)
			}
			spec.AlreadyExists = true
			spec.DashboardURL = b.dashboard(id, existing.Prefix)
			return spec, nil
		}
		return spec, instanceConflict(id)
	}

	if params.Topics == nil { // absent, not an explicit empty list
		params.Topics = plan.DefaultTopics
	}
	prefix := b.cfg.Names.Prefix(id)
	topics := tenant.TopicsFor(prefix, params.Topics, plan.Limits, plan.TopicConfig)
	rec := instanceRecord{
		ID: id, ServiceID: d.ServiceID, PlanID: d.PlanID,
		Name:        instanceName(d.RawContext, id),
		Prefix:      prefix,
		Context:     &pc,
		Parameters:  d.RawParameters,
		Topics:      params.Topics,
		State:       stateReady,
		Updated:     time.Now().UTC(),
		Maintenance: plan.MaintenanceInfo,
		TopicConfig: plan.TopicConfig,
	}
	key := instanceKey(id)
	err = alongside(
		func() error { return b.cfg.Admin.CreateTopics(ctx, topics) },
		func() error { return b.cfg.Store.Put(ctx, key, rec) },
		func() error { return b.cfg.Admin.DeleteTopics(ctx, topicNames(topics)) },
		func() error { return b.cfg.Store.Delete(ctx, key) },
	)
	if err != nil {
		return spec, fmt.Errorf("provisioning instance %s: %w", id, err)
	}
	b.log.Info("provisioned", slog.String("instance", id), slog.String("plan", plan.Name), slog.Int("topics", len(topics)))
	spec.DashboardURL = b.dashboard(id, prefix)
	return spec, nil
}

func topicNames(ts []tenant.Topic) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// GetInstance is GET /v2/service_instances/{instance_id}.
func (b *Broker) GetInstance(ctx context.Context, id string, _ domain.FetchInstanceDetails) (spec domain.GetInstanceDetailsSpec, err error) {
	defer b.answer(&err, "GET instance", id)
	rec, err := b.getInstance(ctx, id)
	if err != nil {
		return spec, err
	}
	if rec == nil {
		return spec, apiresponses.ErrInstanceNotFound
	}
	if rec.State != stateReady {
		return spec, concurrencyError(id)
	}
	params, err := decodeParams(rec.Parameters)
	if err != nil {
		return spec, err
	}
	if extras, ok := ctx.Value(instanceExtrasKey).(*instanceExtras); ok {
		extras.maintenance = rec.Maintenance
	}
	return domain.GetInstanceDetailsSpec{ServiceID: rec.ServiceID, PlanID: rec.PlanID, Parameters: params, DashboardURL: b.dashboard(id, rec.Prefix)}, nil
}

// withDefaults fills in defaults so that {"name":"a"} equals
// {"name":"a","partitions":1}.
func withDefaults(t catalog.TopicSpec, l catalog.Limits) catalog.TopicSpec {
	if t.Partitions == 0 {
		t.Partitions = 1
	}
	if t.RetentionHours == 0 {
		t.RetentionHours = l.MaxRetentionHours
	}
	return t
}

// Deprovision is DELETE /v2/service_instances/{instance_id}. Tenants with
// many topics are removed in the background when the platform accepts
// that.
func (b *Broker) Deprovision(ctx context.Context, id string, d domain.DeprovisionDetails, asyncAllowed bool) (spec domain.DeprovisionServiceSpec, err error) {
	defer b.answer(&err, "deprovision", id)
	if tenant.CheckID("instance", id) != nil {
		return spec, apiresponses.ErrInstanceDoesNotExist
	}
	if op, ok := b.runningOp(id); ok {
		if asyncAllowed {
			return domain.DeprovisionServiceSpec{IsAsync: true, OperationData: op}, nil
		}
		return spec, concurrencyError(id)
	}
	release, ok := b.locks.try(id, true)
	if !ok {
		return spec, concurrencyError(id)
	}
	handedOff := false
	defer func() {
		if !handedOff {
			release()
		}
	}()
	ctx, cancel := b.opContext(ctx)
	defer cancel()
	// Both are reads, so the topic listing need not wait for the record:
	// the prefix follows from the ID.
	prefix := b.cfg.Names.Prefix(id)
	listed := make(chan topicList, 1)
	go func() {
		topics, err := b.cfg.Admin.TopicsWithPrefix(ctx, prefix)
		listed <- topicList{topics, err}
	}()
	rec, err := b.getInstance(ctx, id)
	tl := <-listed
	if err != nil {
		return spec, err
	}
	if rec == nil {
		// Without a record, whatever the prefix holds was left by an
		// operation that crashed: remove it before answering that the
		// instance is gone.
		err := tl.err
		if err == nil {
			err = b.cfg.Admin.DeleteTenant(ctx, prefix, tl.topics)
		}
		if err != nil {
			return spec, fmt.Errorf("deprovisioning instance %s: removing what its prefix holds: %w", id, err)
		}
		return spec, apiresponses.ErrInstanceDoesNotExist
	}
	if d.ServiceID != rec.ServiceID || d.PlanID != rec.PlanID {
		return spec, wrongPlan(id, d.ServiceID, d.PlanID)
	}
	topics, err := tl.topics, tl.err
	if rec.Prefix != prefix { // made under another --topic-prefix-base
		topics, err = b.cfg.Admin.TopicsWithPrefix(ctx, rec.Prefix)
	}
	if err != nil {
		return spec, err
	}
	async := rec.State == stateDeprovisioning || len(topics) > b.cfg.AsyncDeprovisionTopics
	if !async || !asyncAllowed {
		if err := b.deprovisionNow(ctx, rec, topics); err != nil {
			return spec, fmt.Errorf("deprovisioning instance %s: %w", id, err)
		}
		return spec, nil
	}
	op := rec.Operation
	if rec.State != stateDeprovisioning {
		op = "deprovision-" + randomToken(8)
		next := *rec
		next.State, next.Operation, next.Error, next.Updated = stateDeprovisioning, op, "", time.Now().UTC()
		if err := b.cfg.Store.Put(ctx, instanceKey(id), next); err != nil {
			return spec, err
		}
		rec = &next
	}
	handedOff = true
	b.startDeprovision(rec, release)
	return domain.DeprovisionServiceSpec{IsAsync: true, OperationData: op}, nil
}

type topicList struct {
	topics []string
	err    error
}

func (b *Broker) runningOp(id string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	op, ok := b.running[id]
	return op, ok
}

// startDeprovision runs a deprovision in the background; it owns the
// instance lock until it ends.
func (b *Broker) startDeprovision(rec *instanceRecord, release func()) {
	b.mu.Lock()
	b.running[rec.ID] = rec.Operation
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer release()
		defer func() {
			b.mu.Lock()
			delete(b.running, rec.ID)
			b.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.OperationTimeout)
		defer cancel()
		if d := b.cfg.MinAsyncDuration; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-b.ctx.Done():
				t.Stop()
				return // shutting down: a later poll resumes, as below
			}
		}
		err := b.deprovision(ctx, rec, nil)
		if err == nil {
			b.log.Info("deprovisioned in background", slog.String("instance", rec.ID))
			return
		}
		if b.ctx.Err() != nil {
			return // shutting down: the record still says deprovisioning, so a later poll resumes
		}
		b.log.Error("background deprovision failed", slog.String("instance", rec.ID), slog.Any("error", err))
		failed := *rec
		failed.State, failed.Error, failed.Reason, failed.Updated = stateDeprovisionFailed, err.Error(), publicReason(err), time.Now().UTC()
		if perr := b.cfg.Store.Put(ctx, instanceKey(rec.ID), failed); perr != nil {
			b.log.Error("recording failed deprovision", slog.String("instance", rec.ID), slog.Any("error", perr))
		}
	}()
}

// deprovision removes the tenant from Kafka first and the records last, so
// a failure or a crash leaves records that let the platform retry, and a
// background deprovision resume. topics, when known, saves listing them
// again.
func (b *Broker) deprovision(ctx context.Context, rec *instanceRecord, topics []string) error {
	if err := b.cfg.Admin.DeleteTenant(ctx, rec.Prefix, topics); err != nil {
		return err
	}
	tombstones, _, err := b.records(rec)
	if err != nil {
		return err
	}
	if err := b.cfg.Store.Write(ctx, tombstones...); err != nil {
		return err
	}
	b.log.Info("deprovisioned", slog.String("instance", rec.ID), slog.Int("bindings", len(tombstones)-1))
	return nil
}

// deprovisionNow is a synchronous deprovision: the platform waits for its
// answer and repeats the request when it gets none. So the records go
// while Kafka is being cleaned; a failure writes them back, and a retry
// after a crash finds no record but removes what the prefix holds all the
// same. That finds only the prefix the IDs name, so an instance made under
// another prefix base keeps its records until the end.
func (b *Broker) deprovisionNow(ctx context.Context, rec *instanceRecord, topics []string) error {
	if rec.Prefix != b.cfg.Names.Prefix(rec.ID) {
		return b.deprovision(ctx, rec, topics)
	}
	tombstones, current, err := b.records(rec)
	if err != nil {
		return err
	}
	err = alongside(
		func() error { return b.cfg.Admin.DeleteTenant(ctx, rec.Prefix, topics) },
		func() error { return b.cfg.Store.Write(ctx, tombstones...) },
		nil,
		func() error { return b.cfg.Store.Write(ctx, current...) },
	)
	if err != nil {
		return err
	}
	b.log.Info("deprovisioned", slog.String("instance", rec.ID), slog.Int("bindings", len(tombstones)-1))
	return nil
}

// records lists the instance's records as deletions and as they are now:
// its bindings, then the instance. The instance lock keeps this replica
// from adding bindings meanwhile, so the view of the last sync is enough.
func (b *Broker) records(rec *instanceRecord) (tombstones, current []store.Record, err error) {
	bindings := b.cfg.Store.ListCached(bindingsPrefix(rec.ID))
	for key, value := range bindings {
		tombstones = append(tombstones, store.Record{Key: key})
		current = append(current, store.Record{Key: key, Value: value})
	}
	inst, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	tombstones = append(tombstones, store.Record{Key: instanceKey(rec.ID)})
	current = append(current, store.Record{Key: instanceKey(rec.ID), Value: inst})
	return tombstones, current, nil
}

// LastOperation is GET /v2/service_instances/{instance_id}/last_operation.
// Only deprovision runs asynchronously; when the instance is gone it
// answers 410, which the platform reads as a finished delete.
func (b *Broker) LastOperation(ctx context.Context, id string, _ domain.PollDetails) (_ domain.LastOperation, err error) {
	defer b.answer(&err, "last_operation", id)
	rec, err := b.getInstance(ctx, id)
	if err != nil {
		return domain.LastOperation{}, err
	}
	if rec == nil {
		return domain.LastOperation{}, b.goneOrNotFound(instanceKey(id), "instance "+id, apiresponses.ErrInstanceDoesNotExist)
	}
	switch rec.State {
	case stateDeprovisioning:
		b.resumeDeprovision(rec)
		return domain.LastOperation{State: domain.InProgress, Description: "deleting topics, users and ACLs"}, nil
	case stateDeprovisionFailed:
		return domain.LastOperation{State: domain.Failed, Description: failedDescription(rec)}, nil
	}
	return domain.LastOperation{State: domain.Succeeded, Description: "instance is ready"}, nil
}

// goneOrNotFound answers a poll for something that does not exist: 410 if it
// was deleted (the platform reads it as a finished delete), 404 if it never
// existed, as OSB 2.17 says; a 410 there would tell a platform polling the
// wrong ID that a delete succeeded.
// Its callers have just synced the store to find nothing under key.
func (b *Broker) goneOrNotFound(key, what string, gone error) error {
	if b.cfg.Store.DeletedCached(key) {
		return gone
	}
	return failure(http.StatusNotFound, "not-found", "%s does not exist", what)
}

// resumeDeprovision restarts a deprovision that a stopped broker (this one
// or another replica) left in its record. The steps are idempotent, so two
// replicas resuming the same one do no harm.
func (b *Broker) resumeDeprovision(rec *instanceRecord) {
	if _, ok := b.runningOp(rec.ID); ok {
		return
	}
	release, ok := b.locks.try(rec.ID, true)
	if !ok {
		return
	}
	b.startDeprovision(rec, release)
}

// credentials carries the seed's keys (brokers, username, password,
// topicPrefix, ca, name), the prefixes consumer groups and transactional
// IDs must start with, and the servicebinding.io Kafka keys, all as strings
// so they land in a Secret unchanged.
func (b *Broker) credentials(inst *instanceRecord, bind *bindingRecord) map[string]string {
	servers := strings.Join(b.cfg.Kafka.BootstrapServers, ",")
	protocol := "SASL_SSL"
	if !b.cfg.Kafka.TLS {
		protocol = "SASL_PLAINTEXT"
	}
	c := map[string]string{
		"brokers":           servers,
		"username":          bind.Username,
		"password":          bind.Password,
		"topicPrefix":       inst.Prefix,
		"name":              inst.Name,
		"type":              "kafka",
		"provider":          b.cfg.Provider,
		"bootstrap-servers": servers,
		"sasl.mechanism":    tenant.Mechanism,
		"security.protocol": protocol,
	}
	// The ACLs put groups and transactional IDs under the topic prefix.
	// A client outside it is refused with an error librdkafka only logs
	// (its consumer then silently receives nothing), so the Secret says
	// where they belong.
	c["groupPrefix"] = inst.Prefix
	c["transactionalIdPrefix"] = inst.Prefix
	if b.cfg.Kafka.CAPEM != "" {
		c["ca"] = b.cfg.Kafka.CAPEM
		c["ca.crt"] = b.cfg.Kafka.CAPEM
	}
	return c
}

func randomToken(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// failedDescription tells the platform why a background deprovision failed
// without the error's text, which names topics and users: records written
// before Reason existed get the generic reason.
func failedDescription(rec *instanceRecord) string {
	reason := rec.Reason
	if reason == "" {
		reason = genericReason
	}
	return "deprovision failed: " + reason + seeLog
}

// claim stores the context of the first bind of a record written before
// contexts were stored (see checkContext).
func (b *Broker) claim(ctx context.Context, rec *instanceRecord, pc platformContext) error {
	next := *rec
	next.Context, next.Updated = &pc, time.Now().UTC()
	if err := b.cfg.Store.Put(ctx, instanceKey(rec.ID), next); err != nil {
		return err
	}
	b.log.Info("instance record claimed by its first bind with a context", slog.String("instance", rec.ID))
	*rec = next
	return nil
}
