package tenant

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/svcat-io/svcat/internal/kafkabroker/catalog"
)

// ScramIterations is fixed at Kafka's minimum: kfake answers every login
// with 4096 whatever was stored, so any other count locks users out there,
// and real Kafka accepts it.
const ScramIterations = 4096

// Mechanism is the SASL mechanism of every binding user.
const Mechanism = "SCRAM-SHA-512"

// Admin performs the tenant's Kafka admin calls with the broker's admin
// credentials.
type Admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

// NewAdmin wraps a client that is logged in as a Kafka admin (a superuser,
// or a user allowed to manage topics, groups, ACLs and SCRAM users).
func NewAdmin(cl *kgo.Client) *Admin {
	return &Admin{cl: cl, adm: kadm.NewClient(cl)}
}

// Topic is one topic to create, with its full name.
type Topic struct {
	Name           string
	Partitions     int32
	RetentionMs    int64
	RetentionBytes int64 // 0: unlimited
	// Configs are further topic configs (a plan's topicConfig).
	Configs map[string]string
}

// TopicsFor turns requested topics into full topics within plan limits,
// with the topic configs of the instance's maintenance version.
func TopicsFor(prefix string, specs []catalog.TopicSpec, l catalog.Limits, configs map[string]string) []Topic {
	out := make([]Topic, 0, len(specs))
	for _, s := range specs {
		t := Topic{Name: prefix + s.Name, Partitions: s.Partitions, RetentionBytes: l.MaxBytesPerTopic, Configs: configs}
		if t.Partitions == 0 {
			t.Partitions = 1
		}
		hours := s.RetentionHours
		if hours == 0 {
			hours = l.MaxRetentionHours
		}
		t.RetentionMs = int64(hours) * 3600 * 1000
		out = append(out, t)
	}
	return out
}

// CreateTopics creates the topics in one request. A topic that already
// exists counts as created: it is what a retried request left behind.
// When some topics fail, the ones this call created are deleted again.
func (a *Admin) CreateTopics(ctx context.Context, topics []Topic) error {
	if len(topics) == 0 {
		return nil
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	for _, t := range topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = t.Name
		rt.NumPartitions = t.Partitions
		rt.ReplicationFactor = -1
		rt.Configs = append(rt.Configs, topicConfig("retention.ms", strconv.FormatInt(t.RetentionMs, 10)))
		if t.RetentionBytes > 0 {
			rt.Configs = append(rt.Configs, topicConfig("retention.bytes", strconv.FormatInt(t.RetentionBytes, 10)))
		}
		for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
			rt.Configs = append(rt.Configs, topicConfig(k, t.Configs[k]))
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	var created []string
	var errs []error
	for _, t := range resp.Topics {
		err := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case err == nil:
			created = append(created, t.Topic)
		case errors.Is(err, kerr.TopicAlreadyExists):
		default:
			msg := ""
			if t.ErrorMessage != nil {
				msg = ": " + *t.ErrorMessage
			}
			errs = append(errs, fmt.Errorf("creating topic %s: %w%s", t.Topic, err, msg))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(created) > 0 {
		if err := a.DeleteTopics(ctx, created); err != nil {
			errs = append(errs, fmt.Errorf("rolling back: %w", err))
		}
	}
	return errors.Join(errs...)
}

func topicConfig(name, value string) kmsg.CreateTopicsRequestTopicConfig {
	c := kmsg.NewCreateTopicsRequestTopicConfig()
	c.Name = name
	c.Value = kmsg.StringPtr(value)
	return c
}

// AlterTopics brings existing topics to the settings given, for plan
// changes and maintenance upgrades: retention.ms, retention.bytes (removed
// when unlimited), the configs, and the removal of the configs named in
// drop (ones an older version set that the new one does not). Setting a
// config to the value it has changes nothing, so it can be repeated.
func (a *Admin) AlterTopics(ctx context.Context, topics []Topic, drop []string) error {
	if len(topics) == 0 {
		return nil
	}
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = t.Name
		set := func(name string, value *string, op kmsg.IncrementalAlterConfigOp) {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Value, c.Op = name, value, op
			r.Configs = append(r.Configs, c)
		}
		set("retention.ms", kmsg.StringPtr(strconv.FormatInt(t.RetentionMs, 10)), kmsg.IncrementalAlterConfigOpSet)
		if t.RetentionBytes > 0 {
			set("retention.bytes", kmsg.StringPtr(strconv.FormatInt(t.RetentionBytes, 10)), kmsg.IncrementalAlterConfigOpSet)
		} else {
			set("retention.bytes", nil, kmsg.IncrementalAlterConfigOpDelete)
		}
		for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
			set(k, kmsg.StringPtr(t.Configs[k]), kmsg.IncrementalAlterConfigOpSet)
		}
		for _, k := range drop {
			if _, kept := t.Configs[k]; !kept {
				set(k, nil, kmsg.IncrementalAlterConfigOpDelete)
			}
		}
		req.Resources = append(req.Resources, r)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return fmt.Errorf("altering topic configs: %w", err)
	}
	var errs []error
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			msg := ""
			if r.ErrorMessage != nil {
				msg = ": " + *r.ErrorMessage
			}
			errs = append(errs, fmt.Errorf("altering configs of topic %s: %w%s", r.ResourceName, err, msg))
		}
	}
	return errors.Join(errs...)
}

// TopicsWithPrefix lists the topics that belong to a tenant. It asks the
// cluster directly: kadm's listing reuses cached metadata for a few seconds,
// which would still show topics that were just deleted.
func (a *Admin) TopicsWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	var out []string
	for _, t := range resp.Topics {
		if t.Topic != nil && strings.HasPrefix(*t.Topic, prefix) && t.ErrorCode == 0 {
			out = append(out, *t.Topic)
		}
	}
	return out, nil
}

// DeleteTopics deletes topics; topics that are already gone are fine.
func (a *Admin) DeleteTopics(ctx context.Context, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	resp, err := a.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("deleting topics: %w", err)
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("deleting topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// tenantACLs is what a binding user may do: use the tenant's topics, groups
// and transactional IDs, all matched by prefix. Creating, deleting or
// reconfiguring topics is left out so that plan limits, enforced where the
// broker creates topics, cannot be bypassed.
var tenantACLs = []struct {
	resource kmsg.ACLResourceType
	ops      []kmsg.ACLOperation
}{
	{kmsg.ACLResourceTypeTopic, []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe, kmsg.ACLOperationDescribeConfigs}},
	{kmsg.ACLResourceTypeGroup, []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete}},
	{kmsg.ACLResourceTypeTransactionalId, []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe}},
}

// Credential is a password salted for SCRAM-SHA-512, ready to be stored in
// Kafka.
type Credential struct {
	salt, salted []byte
}

// Salt derives the SCRAM credential of a password: PBKDF2 with
// ScramIterations rounds, a few milliseconds of CPU. It needs no Kafka, so
// a caller can run it while it does other work.
func Salt(password string) (Credential, error) {
	salt := make([]byte, 24)
	if _, err := rand.Read(salt); err != nil {
		return Credential{}, err
	}
	salted, err := pbkdf2.Key(sha512.New, password, salt, ScramIterations, sha512.Size)
	if err != nil {
		return Credential{}, fmt.Errorf("salting password: %w", err)
	}
	return Credential{salt: salt, salted: salted}, nil
}

// CreateUser creates (or resets) a SCRAM user with a credential from Salt
// and grants it the tenant's ACLs. If granting fails the user is removed
// again.
func (a *Admin) CreateUser(ctx context.Context, user string, cred Credential, prefix string) error {
	res, err := a.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User:           user,
		Mechanism:      kadm.ScramSha512,
		Iterations:     ScramIterations,
		Salt:           cred.salt,
		SaltedPassword: cred.salted,
	}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("creating SCRAM user %s: %w", user, err)
	}
	if err := a.Grant(ctx, user, prefix); err != nil {
		if derr := a.DeleteUser(ctx, user); derr != nil {
			err = errors.Join(err, fmt.Errorf("rolling back: %w", derr))
		}
		return err
	}
	return nil
}

// HasUser reports whether a SCRAM user exists.
func (a *Admin) HasUser(ctx context.Context, user string) (bool, error) {
	described, err := a.adm.DescribeUserSCRAMs(ctx, user)
	if err != nil {
		return false, fmt.Errorf("describing SCRAM user %s: %w", user, err)
	}
	d, ok := described[user]
	switch {
	case !ok || errors.Is(d.Err, kerr.ResourceNotFound):
		return false, nil
	case d.Err != nil:
		return false, fmt.Errorf("describing SCRAM user %s: %w", user, d.Err)
	}
	return len(d.CredInfos) > 0, nil
}

// Grant gives a user the tenant's ACLs on prefix. Kafka keeps ACLs as a
// set, so granting again changes nothing.
func (a *Admin) Grant(ctx context.Context, user, prefix string) error {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, g := range tenantACLs {
		for _, op := range g.ops {
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType = g.resource
			c.ResourceName = prefix
			c.ResourcePatternType = kmsg.ACLResourcePatternTypePrefixed
			c.Principal = "User:" + user
			c.Host = "*"
			c.Operation = op
			c.PermissionType = kmsg.ACLPermissionTypeAllow
			req.Creations = append(req.Creations, c)
		}
	}
	if err := a.createACLs(ctx, req); err != nil {
		return fmt.Errorf("granting ACLs to %s: %w", user, err)
	}
	return nil
}

func (a *Admin) createACLs(ctx context.Context, req *kmsg.CreateACLsRequest) error {
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteUser revokes the user's ACLs first, so its open connections lose
// access at once, and then deletes its credentials. A user that is already
// gone is fine.
func (a *Admin) DeleteUser(ctx context.Context, user string) error {
	f := anyFilter()
	f.Principal = kmsg.StringPtr("User:" + user)
	if err := a.deleteACLs(ctx, f); err != nil {
		return fmt.Errorf("revoking ACLs of %s: %w", user, err)
	}
	res, err := a.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	if err != nil {
		return fmt.Errorf("deleting SCRAM user %s: %w", user, err)
	}
	for _, r := range res {
		if r.Err != nil && !errors.Is(r.Err, kerr.ResourceNotFound) {
			return fmt.Errorf("deleting SCRAM user %s: %w", user, r.Err)
		}
	}
	return nil
}

func anyFilter() kmsg.DeleteACLsRequestFilter {
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType = kmsg.ACLResourceTypeAny
	f.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	f.Operation = kmsg.ACLOperationAny
	f.PermissionType = kmsg.ACLPermissionTypeAny
	return f
}

func (a *Admin) deleteACLs(ctx context.Context, filters ...kmsg.DeleteACLsRequestFilter) error {
	req := kmsg.NewPtrDeleteACLsRequest()
	req.Filters = filters
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteTenant removes everything under a tenant's prefix: ACLs on its
// resources (whoever holds them), SCRAM users named under the prefix,
// consumer groups and topics. Each step tolerates what is already gone, so
// it can be repeated after a failure. A caller that has just listed the
// tenant's topics passes them; nil lists them here.
func (a *Admin) DeleteTenant(ctx context.Context, prefix string, topics []string) error {
	var filters []kmsg.DeleteACLsRequestFilter
	for _, g := range tenantACLs {
		f := anyFilter()
		f.ResourceType = g.resource
		f.ResourceName = kmsg.StringPtr(prefix)
		f.ResourcePatternType = kmsg.ACLResourcePatternTypePrefixed
		filters = append(filters, f)
	}
	if err := a.deleteACLs(ctx, filters...); err != nil {
		return fmt.Errorf("revoking ACLs under %s: %w", prefix, err)
	}
	if err := a.deleteUsersWithPrefix(ctx, prefix); err != nil {
		return err
	}
	if err := a.deleteGroupsWithPrefix(ctx, prefix); err != nil {
		return err
	}
	if topics == nil {
		var err error
		if topics, err = a.TopicsWithPrefix(ctx, prefix); err != nil {
			return err
		}
	}
	return a.DeleteTopics(ctx, topics)
}

func (a *Admin) deleteUsersWithPrefix(ctx context.Context, prefix string) error {
	described, err := a.adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		return fmt.Errorf("listing SCRAM users: %w", err)
	}
	var del []kadm.DeleteSCRAM
	for user, d := range described {
		if !strings.HasPrefix(user, prefix) {
			continue
		}
		for _, info := range d.CredInfos {
			del = append(del, kadm.DeleteSCRAM{User: user, Mechanism: info.Mechanism})
		}
	}
	if len(del) == 0 {
		return nil
	}
	res, err := a.adm.AlterUserSCRAMs(ctx, del, nil)
	if err == nil {
		err = res.Error()
	}
	if err != nil && !errors.Is(err, kerr.ResourceNotFound) {
		return fmt.Errorf("deleting SCRAM users under %s: %w", prefix, err)
	}
	return nil
}

func (a *Admin) deleteGroupsWithPrefix(ctx context.Context, prefix string) error {
	groups, err := a.adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("listing groups: %w", err)
	}
	var names []string
	for _, g := range groups.Groups() {
		if strings.HasPrefix(g, prefix) {
			names = append(names, g)
		}
	}
	if len(names) == 0 {
		return nil
	}
	resp, err := a.adm.DeleteGroups(ctx, names...)
	if err != nil {
		return fmt.Errorf("deleting groups: %w", err)
	}
	for _, r := range resp.Sorted() {
		// A group whose members are still connected cannot be deleted.
		// With the tenant's ACLs gone they can do nothing, and Kafka drops
		// the group once it is empty and its offsets expire.
		if r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) && !errors.Is(r.Err, kerr.NonEmptyGroup) {
			return fmt.Errorf("deleting group %s: %w", r.Group, r.Err)
		}
	}
	return nil
}
