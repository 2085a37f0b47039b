/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The khv-hello guest: 16-bit real-mode code, assembled by GNU as into the
 * tool's read-only data (it is never executed on the host).  khv-hello
 * copies the bytes between khv_hello_guest_start and khv_hello_guest_end to
 * guest RAM and points CS at them with IP = 0.
 *
 * Everything is addressed relative to the start (DS = CS, SI = offset of
 * the message), so the assembler resolves it all and the code runs
 * wherever it is loaded on a 16-byte boundary.
 *
 * It writes the message to the first serial port one byte at a time with
 * OUT DX, AL (one KHV_EXIT_IO per byte), executes CPUID leaf 0 (handled in
 * the kernel, no exit to userspace; the vendor string stays in EBX, EDX,
 * ECX for the tool to read) and halts.
 */
#define COM1_DATA 0x3f8

	.section .rodata.khv_hello_guest, "a"
	.globl	khv_hello_guest_start
	.globl	khv_hello_guest_end
	.code16

khv_hello_guest_start:
.Lstart:
	mov	%cs, %ax
	mov	%ax, %ds
	mov	$(.Lmsg - .Lstart), %si
	mov	$COM1_DATA, %dx
	cld
.Lnext:
	lodsb				/* AL = DS:[SI++] */
	test	%al, %al
	jz	.Ldone
	out	%al, %dx
	jmp	.Lnext
.Ldone:
	xor	%eax, %eax		/* CPUID leaf 0: vendor string */
	cpuid
.Lhalt:
	hlt
	jmp	.Lhalt			/* if the VMM ever resumes us */
.Lmsg:
	.asciz	"hello from a khv guest\n"
khv_hello_guest_end:

	.code64
	.section .note.GNU-stack, "", @progbits
