// Package packaging holds the files of the Debian package and of
// "make install": the default configuration, the man pages and the
// maintainer scripts. Its tests keep them in step with the code: the
// shipped configuration must mean exactly the defaults of core/config, every
// configuration key must be documented with its true default, and a built
// .deb must have the planned layout, modes and conffiles.
package packaging
