package packaging

import (
	"strings"
	"testing"
)

// testCA is a syntactically plausible PEM block: the chart only passes it
// through to a Secret, nothing parses it.
const testCA = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUU3ZjYXQtdGVzdC1jYS1ub3QtcmVhbDAKBggqhkjOPQQD
-----END CERTIFICATE-----
`

// allValues sets every value away from its default: each controller flag,
// the ServiceMonitor, a split lease namespace, an image digest, and the
// Kafka broker against an external cluster with a CA and its own catalog.
func allValues(t testing.TB, leaseNamespace string) map[string]any {
	return withCA(values(t, strings.ReplaceAll(`
commonLabels:
  team: platform
imagePullSecrets:
- name: registry-creds
controller:
  replicaCount: 3
  image:
    repository: registry.example.com/svcat/catalog-controller
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    pullPolicy: Always
  concurrency: 7
  brokerRelistInterval: 20m
  osbTimeout: 30s
  retryBaseDelay: 1s
  retryMaxDelay: 5m
  brokerCredentialsTTL: 10s
  memoryLimitRatio: 0.8
  pprofBindAddress: 127.0.0.1:6060
  clusterID: 9f6b6d0e-test-cluster
  devResolve:
  - broker.osb.svc.cluster.local:80:127.0.0.1:8090
  - other.osb.svc.cluster.local:443:10.0.0.7:8443
  allowBrokerURLHosts:
  - 169.254.10.0/24
  - metadata.internal.example
  brokerProxy: http://egress.example:3128
  refuseLoopbackBrokerURLs: false
  catalogLimits:
    clusterBrokers: {bytes: 20Mi, depth: 80, services: 2000, plansPerService: 300, plans: 10000, objectBytes: 1Mi, values: 1000000}
    namespacedBrokers: {bytes: 524288, depth: 16, services: 10, plansPerService: 5, plans: 20, objectBytes: 16Ki, values: 20000}
  catalogMemoryBudget: 400Mi
  resync: 1h
  originatingIdentity: none
  leaderElection:
    enabled: true
    namespace: LEASE_NS
    id: svcat-test-lease
  metrics:
    port: 9090
    service:
      port: 9090
      annotations:
        example.com/scrape: "true"
    serviceMonitor:
      enabled: true
      interval: 15s
      scrapeTimeout: 10s
      labels:
        release: prometheus
  healthProbePort: 9091
  log:
    level: debug
    encoder: console
    stacktraceLevel: panic
    timeEncoding: iso8601
    development: true
  resources:
    requests: {cpu: 100m, memory: 128Mi}
    limits: {cpu: "1", memory: 512Mi}
  serviceAccount:
    name: svcat-controller-sa
    annotations:
      example.com/role: catalog
  podAnnotations:
    example.com/owner: platform
  podLabels:
    example.com/tier: control
  nodeSelector:
    kubernetes.io/os: linux
  tolerations:
  - key: dedicated
    operator: Equal
    value: platform
    effect: NoSchedule
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app.kubernetes.io/component: catalog-controller
  podDisruptionBudget:
    minAvailable: 2
kafkaBroker:
  enabled: true
  mode: external
  replicaCount: 3
  image:
    repository: registry.example.com/svcat/kafka-broker
    tag: v9.9.9
  auth:
    username: catalog
    password: not-a-real-password
  external:
    bootstrapServers: kafka-0.kafka:9093,kafka-1.kafka:9093
    advertisedServers: kafka.example.com:9093
    adminMechanism: SCRAM-SHA-256
    adminUser: svcat-admin
    adminPassword: not-a-real-admin-password
    ca: |
      CA_PEM
  catalog: |
    services:
    - id: d21df959-6da8-495f-a8b6-ddc51d49eea2
      name: cloudkarafka
      description: CloudKarafka
      plans:
      - id: e64a8b50-be7f-48cf-9010-9ccb7fe075b5
        name: duck
        description: Developer Duck
        limits: {maxTopics: 5, maxPartitions: 1, maxRetentionHours: 672}
  stateTopic: __svcat_test_state
  topicPrefixBase: test-
  provider: example
  dashboardURL: https://kafka-ui.example/ui/clusters/main/all-topics?q={topic_prefix}
  asyncDeprovisionTopics: 3
  operationTimeout: 1m
  logLevel: debug
  service:
    port: 8080
  clusterServiceBroker:
    name: kafka-test
    relistDuration: 30m
`, "LEASE_NS", leaseNamespace)))
}

// withCA sets the CA after parsing: splicing a multi-line PEM into the YAML
// literal would need its indentation fixed.
func withCA(m map[string]any) map[string]any {
	kb := m["kafkaBroker"].(map[string]any)
	kb["external"].(map[string]any)["ca"] = testCA
	return m
}

// embeddedValues runs the broker with its embedded Kafka on a
// PersistentVolumeClaim and a generated password.
func embeddedValues(t testing.TB) map[string]any {
	return values(t, `
kafkaBroker:
  enabled: true
  mode: embedded
  embedded:
    persistence:
      enabled: true
      size: 2Gi
`)
}
