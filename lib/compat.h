/*
 * lib/compat.h: declarations that the platform's headers hide or lack, as
 * configure found them (docs/PORTING.md, section 2).  lib/internal.h and
 * tests/testutil.h include it, after config.h.
 */
#ifndef HAZ_COMPAT_H
#define HAZ_COMPAT_H

/*
 * realpath(3) belongs to the XSI option of POSIX.1-2008 (it is base only
 * from POSIX.1-2024), so a build that defines _POSIX_C_SOURCE alone
 * (--enable-strict-posix) does not see its prototype although the C
 * library has it: configure refuses a platform where it does not link.
 * Only realpath(path, NULL) is used; where that form is not supported it
 * fails with EINVAL and the caller reports the error.
 */
#if defined(HAVE_DECL_REALPATH) && !HAVE_DECL_REALPATH
char *realpath(const char *path, char *resolved);
#endif

#endif /* HAZ_COMPAT_H */
