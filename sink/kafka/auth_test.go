package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// roundTrip writes and commits one transaction with a fresh sink, and
// checks that another sink reads the checkpoint back.
func roundTrip(t *testing.T, opts Options) {
	t.Helper()
	s, _, _ := open(t, opts)
	b := txn(5, 2)
	write(t, s, b)
	flush(t, s)
	s.Close()
	if _, cp, ok := open(t, opts); !ok || cp.Pos != b.Checkpoint.Pos {
		t.Fatalf("checkpoint %v %v, want %s", cp.Pos, ok, b.Checkpoint.Pos)
	}
}

func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			k, err := testenv.StartKafka(kfake.EnableSASL(), kfake.Superuser(mech, "cdcd", "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(k.Close)
			opts := testOptions(t, k)
			opts.SASL = &SASL{Mechanism: mech, User: "cdcd", Password: "s3cret"}
			roundTrip(t, opts)

			if mech != "PLAIN" {
				return
			}
			// kfake drops the connection of a failed authentication (a
			// real broker answers SASL_AUTHENTICATION_FAILED, which the
			// sink reports as permanent): Open must fail either way.
			opts.SASL.Password = "wrong"
			s, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, _, err := s.Open(ctx); err == nil {
				t.Fatal("Open with a wrong password succeeded")
			}
		})
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	k, err := testenv.StartKafka(kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	opts := testOptions(t, k)
	opts.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	roundTrip(t, opts)
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}
