package v1beta1_test

import (
	"testing"

	"github.com/svcat-io/svcat/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
