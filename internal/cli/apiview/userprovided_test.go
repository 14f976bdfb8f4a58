package apiview

import (
	"strings"
	"testing"

	"github.com/svcat-io/svcat/api/v1beta1"
)

func TestParseCredentials(t *testing.T) {
	big := strings.Repeat("v", v1beta1.MaxUserProvidedSecretBytes)
	cases := []struct {
		pairs   []string
		want    map[string]string
		wantErr string
	}{
		{pairs: []string{"host=db", "password=a=b", "empty="}, want: map[string]string{"host": "db", "password": "a=b", "empty": ""}},
		{pairs: []string{"tls.crt=x", "A_b-1=y"}, want: map[string]string{"tls.crt": "x", "A_b-1": "y"}},
		{pairs: []string{"a=b", "novalue"}, wantErr: `--param number 2 has no "=": want KEY=VALUE`},
		{pairs: []string{"=v"}, wantErr: `--param "": not valid as a Secret key`},
		{pairs: []string{"a/b=v"}, wantErr: `--param "a/b": not valid as a Secret key`},
		{pairs: []string{"a=1", "a=2"}, wantErr: `--param "a" is given twice`},
		{pairs: []string{"k=" + big[1:]}, want: map[string]string{"k": big[1:]}},
		{pairs: []string{"k=" + big}, wantErr: "more than the 524288 a user-provided instance takes"},
	}
	for _, tc := range cases {
		got, err := ParseCredentials("--param", tc.pairs)
		name := strings.Join(tc.pairs, " ")
		if len(name) > 40 {
			name = name[:40]
		}
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", name, err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "vvvv") || strings.Contains(err.Error(), "novalue")) {
				t.Errorf("%s: the error quotes a value", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d keys, want %d", name, len(got), len(tc.want))
		}
		for k, v := range tc.want {
			if string(got[k]) != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
			}
		}
	}
}
