/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Multiboot v1 test kernel for khv-run (ELF32): checks what the loader
 * handed over (EAX magic, the info structure's memory fields and command
 * line), prints one line on COM1 and leaves through the debug-exit port:
 * status (0x21 << 1) | 1 = 67 when everything was right, (0x30 + n) for
 * check n failing.  Small enough to boot in Bochs in no time.
 */
	.set	MB_MAGIC, 0x1badb002
	.set	MB_FLAGS, 0x00000003		/* page-aligned modules, memory info */
	.set	COM1, 0x3f8
	.set	DEBUG_EXIT, 0xf4

	/* The header first in .text: within the image's first 8 KiB. */
	.text
	.code32
	.align	4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.globl	start
start:
	cld
	movl	$stack_top, %esp
	movl	$0x30, %ecx
	cmpl	$0x2badb002, %eax		/* check 0: the loader's magic */
	jne	fail
	incl	%ecx
	testl	$1, (%ebx)			/* check 1: mem_lower/mem_upper valid */
	jz	fail
	incl	%ecx
	cmpl	$1024, 8(%ebx)			/* check 2: mem_upper >= 1 MiB */
	jb	fail
	incl	%ecx
	testl	$4, (%ebx)			/* check 3: a command line */
	jz	fail
	movl	16(%ebx), %esi
	movl	$hello, %edi
	call	puts
	call	puts_esi			/* echo the command line */
	movl	$nl, %edi
	call	puts
	movb	$0x21, %al
	outb	%al, $DEBUG_EXIT
	hlt
fail:
	movl	%ecx, %eax
	outb	%al, $DEBUG_EXIT
	hlt

/* puts: the NUL-terminated string at EDI; puts_esi: the one at ESI. */
puts_esi:
	movl	%esi, %edi
puts:
	movb	(%edi), %al
	testb	%al, %al
	jz	2f
	movb	%al, %ah
	movw	$COM1 + 5, %dx
1:	inb	%dx, %al			/* wait for THR empty */
	testb	$0x20, %al
	jz	1b
	movb	%ah, %al
	movw	$COM1, %dx
	outb	%al, %dx
	incl	%edi
	jmp	puts
2:	ret

	.data
hello:	.asciz	"KHVRUN-MULTIBOOT ok cmdline="
nl:	.asciz	"\n"

	.bss
	.align	16
	.space	4096
stack_top:
