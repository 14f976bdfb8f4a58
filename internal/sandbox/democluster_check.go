package sandbox

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// What the seed's `kubectl get service,pod -n default` shows, addresses,
// ports and ages aside:
//
//	NAME                                  TYPE        CLUSTER-IP       EXTERNAL-IP   PORT(S)        AGE
//	service/demo-kafka-consumer-service   NodePort    10.100.200.113   <none>        80:31876/TCP   6m
//	service/demo-kafka-producer-service   NodePort    10.100.200.57    <none>        80:30776/TCP   19m
//	service/kubernetes                    ClusterIP   10.100.200.1     <none>        443/TCP        1d
//
//	NAME                                       READY   STATUS    RESTARTS   AGE
//	pod/demo-kafka-consumer-dd94c966b-jsgv6    1/1     Running   0          6m
//	pod/demo-kafka-producer-7b44d795d4-drg89   1/1     Running   0          19m
var (
	seedServices = map[string]struct{ typ, ports string }{
		"service/demo-kafka-consumer-service": {"NodePort", `^80:\d+/TCP$`},
		"service/demo-kafka-producer-service": {"NodePort", `^80:\d+/TCP$`},
		"service/kubernetes":                  {"ClusterIP", `^443/TCP$`},
	}
	seedPods = []*regexp.Regexp{
		regexp.MustCompile(`^pod/demo-kafka-consumer-[a-z0-9]+-[a-z0-9]+$`),
		regexp.MustCompile(`^pod/demo-kafka-producer-[a-z0-9]+-[a-z0-9]+$`),
	}
	servicesHeader = []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}
	podsHeader     = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
)

// seedServicesAndPods checks `kubectl get service,pod` against the seed's:
// the same Services with the same types, external IPs and port shapes, and
// one Running, ready, never restarted pod of each app.
func seedServicesAndPods() check {
	return check{"the seed's Services and pods", func(out string) error {
		tables := splitTables(out)
		if len(tables) != 2 {
			return fmt.Errorf("%d tables, the seed shows a Service table and a pod table", len(tables))
		}
		return errors.Join(checkServices(tables[0]), checkPods(tables[1]))
	}}
}

// splitTables splits kubectl's output for several kinds at its empty lines,
// each table as rows of fields.
func splitTables(out string) [][][]string {
	var tables [][][]string
	var cur [][]string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			if cur != nil {
				tables = append(tables, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, strings.Fields(l))
	}
	if cur != nil {
		tables = append(tables, cur)
	}
	return tables
}

func checkServices(t [][]string) error {
	if !equal(t[0], servicesHeader) {
		return fmt.Errorf("Service table header %q, the seed shows %q", t[0], servicesHeader)
	}
	var errs []error
	seen := map[string]bool{}
	for _, r := range t[1:] {
		if len(r) != len(servicesHeader) {
			errs = append(errs, fmt.Errorf("Service row %q: want %d columns", r, len(servicesHeader)))
			continue
		}
		want, ok := seedServices[r[0]]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: the seed shows no such Service", r[0]))
			continue
		}
		seen[r[0]] = true
		if r[1] != want.typ {
			errs = append(errs, fmt.Errorf("%s: type %s, the seed shows %s", r[0], r[1], want.typ))
		}
		if _, err := netip.ParseAddr(r[2]); err != nil {
			errs = append(errs, fmt.Errorf("%s: CLUSTER-IP %q is not an address", r[0], r[2]))
		}
		if r[3] != "<none>" {
			errs = append(errs, fmt.Errorf("%s: EXTERNAL-IP %s, the seed shows <none>", r[0], r[3]))
		}
		if !regexp.MustCompile(want.ports).MatchString(r[4]) {
			errs = append(errs, fmt.Errorf("%s: PORT(S) %s, the seed shows %s", r[0], r[4], want.ports))
		}
	}
	var missing []string
	for name := range seedServices {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("missing: %s", strings.Join(missing, ", ")))
	}
	return errors.Join(errs...)
}

func checkPods(t [][]string) error {
	if !equal(t[0], podsHeader) {
		return fmt.Errorf("pod table header %q, the seed shows %q", t[0], podsHeader)
	}
	var errs []error
	found := make([]int, len(seedPods))
	for _, r := range t[1:] {
		// RESTARTS may read "1 (5s ago)".
		if len(r) < len(podsHeader) {
			errs = append(errs, fmt.Errorf("pod row %q: want %d columns", r, len(podsHeader)))
			continue
		}
		i := -1
		for j, re := range seedPods {
			if re.MatchString(r[0]) {
				i = j
			}
		}
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s: the seed shows no such pod", r[0]))
			continue
		}
		found[i]++
		if r[1] != "1/1" || r[2] != "Running" || r[3] != "0" {
			errs = append(errs, fmt.Errorf("%s: %s %s restarts %s, the seed shows 1/1 Running 0", r[0], r[1], r[2], r[3]))
		}
	}
	for i, n := range found {
		if n != 1 {
			errs = append(errs, fmt.Errorf("%d pods like %s, the seed shows one", n, seedPods[i]))
		}
	}
	return errors.Join(errs...)
}
