package main

/*
#cgo CFLAGS: -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE
#cgo LDFLAGS: -lpam
#include <stdlib.h>
#include <syslog.h>
#include "pamc.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// priority is a syslog priority.
type priority int

// Syslog priorities.
const (
	logErr     priority = C.LOG_ERR
	logWarning priority = C.LOG_WARNING
	logNotice  priority = C.LOG_NOTICE
	logInfo    priority = C.LOG_INFO
	logDebug   priority = C.LOG_DEBUG
)

// pamError is a PAM return code other than PAM_SUCCESS.
type pamError C.int

func (e pamError) Error() string {
	return C.GoString(C.pam_strerror(nil, C.int(e)))
}

// handle is the PAM handle of one pam_authenticate call.
type handle struct {
	pamh   *C.pam_handle_t
	silent bool // PAM_SILENT: show no messages, only prompts
	debug  bool
}

// stringItem returns a string item of the handle; "" if it is not set.
func (h *handle) stringItem(item int) (string, error) {
	var rc C.int
	v := C.pamtotp_get_string_item(h.pamh, C.int(item), &rc)
	if rc != C.PAM_SUCCESS {
		return "", pamError(rc)
	}
	if v == nil {
		return "", nil
	}
	return C.GoString(v), nil
}

// user returns the user being authenticated, asking for it if no earlier
// module or the application has set it.
func (h *handle) user() (string, error) {
	var u *C.char
	if rc := C.pam_get_user(h.pamh, &u, nil); rc != C.PAM_SUCCESS {
		return "", pamError(rc)
	}
	if u == nil {
		return "", nil
	}
	return C.GoString(u), nil
}

// authtok returns PAM_AUTHTOK as an earlier module left it and whether it
// was set at all.
func (h *handle) authtok() (string, bool, error) {
	var rc C.int
	v := C.pamtotp_get_string_item(h.pamh, C.PAM_AUTHTOK, &rc)
	if rc != C.PAM_SUCCESS {
		return "", false, pamError(rc)
	}
	if v == nil {
		return "", false, nil
	}
	return C.GoString(v), true, nil
}

// setAuthtok sets PAM_AUTHTOK for the modules that follow.
func (h *handle) setAuthtok(s string) error {
	cs := C.CString(s)
	defer C.pamtotp_wipe_free(cs)
	if rc := C.pam_set_item(h.pamh, C.PAM_AUTHTOK, unsafe.Pointer(cs)); rc != C.PAM_SUCCESS {
		return pamError(rc)
	}
	return nil
}

// ask shows text as a prompt with echo off and returns the answer.
func (h *handle) ask(text string) (string, error) {
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	var resp *C.char
	rc := C.pamtotp_conv(h.pamh, C.PAM_PROMPT_ECHO_OFF, ct, &resp)
	defer C.pamtotp_wipe_free(resp)
	if rc != C.PAM_SUCCESS {
		return "", pamError(rc)
	}
	if resp == nil {
		return "", errors.New("the application gave no answer to the prompt")
	}
	return C.GoString(resp), nil
}

// tell shows the user an informational message, unless PAM_SILENT.
func (h *handle) tell(text string) { h.show(C.PAM_TEXT_INFO, text) }

// warn shows the user an error message, unless PAM_SILENT.
func (h *handle) warn(text string) { h.show(C.PAM_ERROR_MSG, text) }

func (h *handle) show(style C.int, text string) {
	if h.silent {
		return
	}
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	// A message the application cannot show changes no outcome.
	C.pamtotp_conv(h.pamh, style, ct, nil)
}

// log writes one line to syslog (authpriv) through libpam, which puts
// "pam_totp(service:auth): " before it.
func (h *handle) log(p priority, format string, args ...any) {
	line := C.CString(fmt.Sprintf(format, args...))
	defer C.free(unsafe.Pointer(line))
	C.pamtotp_syslog(h.pamh, C.int(p), line)
}

// debugf logs a line at LOG_DEBUG when the debug argument is given.
func (h *handle) debugf(format string, args ...any) {
	if h.debug {
		h.log(logDebug, "debug: "+format, args...)
	}
}

// userExists reports whether the system's user database knows name.
func userExists(name string) (bool, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	n, err := C.pamtotp_user_exists(cs)
	switch n {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, fmt.Errorf("looking up user %q: %w", name, err)
}

// PAM return codes, flags and items used by the module.
const (
	pamSuccess         = C.PAM_SUCCESS
	pamAuthErr         = C.PAM_AUTH_ERR
	pamAuthinfoUnavail = C.PAM_AUTHINFO_UNAVAIL
	pamMaxtries        = C.PAM_MAXTRIES
	pamIgnore          = C.PAM_IGNORE
	pamServiceErr      = C.PAM_SERVICE_ERR
	pamSystemErr       = C.PAM_SYSTEM_ERR
	pamConvErr         = C.PAM_CONV_ERR

	pamSilent = C.PAM_SILENT

	pamService = C.PAM_SERVICE
	pamRhost   = C.PAM_RHOST
)
