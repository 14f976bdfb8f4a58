package v1beta1_test

import (
	"testing"

	"github.com/svcat-io/svcat/internal/localcluster"
)

func TestMain(m *testing.M) { localcluster.Main(m) }
