package store_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/pam-totp/pam-totp/core/otp"
	"github.com/pam-totp/pam-totp/core/store"
)

func ExampleStore_Begin() {
	dir, err := os.MkdirTemp("", "pam-totp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "host.key")
	if err := store.CreateKey(key, rand.Reader); err != nil {
		log.Fatal(err)
	}
	s, err := store.Open(dir, key)
	if err != nil {
		log.Fatal(err)
	}

	// Every read-modify-write of a user's state is a transaction, which
	// holds the user's lock until Close.
	tx, err := s.Begin("alice")
	if err != nil {
		log.Fatal(err)
	}
	_, err = tx.Load()
	fmt.Println(err)
	st := &store.State{User: "alice", Secret: []byte("12345678901234567890"), Params: otp.DefaultParams}
	if err := tx.Save(st); err != nil {
		log.Fatal(err)
	}
	tx.Close()

	st, err = s.Load("alice")
	fmt.Println(st.User, st.Params.Digits, err)
	fmt.Println(s.Users())
	// Output:
	// store: user is not enrolled
	// alice 6 <nil>
	// [alice] <nil>
}

func ExampleStore_Rekey() {
	dir, err := os.MkdirTemp("", "pam-totp-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	key := filepath.Join(dir, "host.key")
	if err := store.CreateKey(key, rand.Reader); err != nil {
		log.Fatal(err)
	}
	s, err := store.Open(dir, key)
	if err != nil {
		log.Fatal(err)
	}
	for _, user := range []string{"bob", "alice"} {
		tx, err := s.Begin(user)
		if err != nil {
			log.Fatal(err)
		}
		st := &store.State{User: user, Secret: []byte("12345678901234567890"), Params: otp.DefaultParams}
		if err := tx.Save(st); err != nil {
			log.Fatal(err)
		}
		tx.Close()
	}
	old, err := s.KeyIDs()
	if err != nil {
		log.Fatal(err)
	}

	err = s.Rekey(func(user string, resealed bool) {
		if resealed {
			fmt.Println("re-sealed", user)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	ids, err := s.KeyIDs()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ids), "key, new:", ids[0] != old[0])
	// Output:
	// re-sealed alice
	// re-sealed bob
	// 1 key, new: true
}
