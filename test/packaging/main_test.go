package packaging

import (
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

// TestMain starts one kube-apiserver and etcd for the package (with the
// CRDs from config/crd/bases installed), like the main module's
// integration tests.
func TestMain(m *testing.M) { localcluster.Main(m) }
