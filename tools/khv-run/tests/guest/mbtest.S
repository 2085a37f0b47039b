/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Multiboot v1 test kernel for khv-run (ELF32): checks what the loader
 * handed over (EAX magic, the info structure's memory fields and command
 * line), prints one line on COM1 and leaves through the debug-exit port:
 * status (0x21 << 1) | 1 = 67 when everything was right, (0x30 + n) for
 * check n failing.  Small enough to boot in Bochs in no time.
 *
 * With a command line that starts with "count", it then counts for ever,
 * a workload for the snapshot and migration tests that checks its own
 * memory: pass n checks that each of the 65536 dwords at 2 MiB holds its
 * index + n - 1, writes index + n into each, and prints
 * "KHVRUN-MB-PASS n ok"; a dword that is not what the last pass wrote
 * prints "KHVRUN-MB-PASS n BAD" and leaves with status 0x3f.  Each pass
 * also reads the TSC, which must never be below the last pass's reading
 * (a snapshot restored later, a migration to another machine whose TSC
 * counts from elsewhere): "KHVRUN-MB-PASS n BAD tsc", status 0x3e.
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
	movl	16(%ebx), %esi
	cmpl	$0x6e756f63, (%esi)		/* "coun" */
	jne	done
	cmpb	$'t', 4(%esi)
	je	count
done:
	movb	$0x21, %al
	outb	%al, $DEBUG_EXIT
	hlt
fail:
	movl	%ecx, %eax
	outb	%al, $DEBUG_EXIT
	hlt

	.set	AREA, 0x200000
	.set	DWORDS, 65536

/* The counting workload (see the top); EBP is the pass. */
count:
	xorl	%ebp, %ebp
	xorl	%ecx, %ecx			/* pass 0 writes index + 0 */
1:	movl	%ecx, AREA(,%ecx,4)
	incl	%ecx
	cmpl	$DWORDS, %ecx
	jb	1b
next_pass:
	incl	%ebp
	xorl	%ecx, %ecx
2:	leal	-1(%ebp,%ecx), %eax		/* what pass n - 1 wrote */
	cmpl	%eax, AREA(,%ecx,4)
	jne	bad
	incl	%eax
	movl	%eax, AREA(,%ecx,4)
	incl	%ecx
	cmpl	$DWORDS, %ecx
	jb	2b
	rdtsc					/* EDX:EAX >= last_tsc, unsigned */
	cmpl	last_tsc + 4, %edx
	jb	bad_tsc
	ja	3f
	cmpl	last_tsc, %eax
	jb	bad_tsc
3:	movl	%eax, last_tsc
	movl	%edx, last_tsc + 4
	movl	$pass, %edi
	call	puts
	movl	%ebp, %eax
	call	putu
	movl	$ok, %edi
	call	puts
	jmp	next_pass
bad:
	movl	$pass, %edi
	call	puts
	movl	%ebp, %eax
	call	putu
	movl	$badw, %edi
	call	puts
	movb	$0x3f, %al
	outb	%al, $DEBUG_EXIT
	hlt
bad_tsc:
	movl	$pass, %edi
	call	puts
	movl	%ebp, %eax
	call	putu
	movl	$badtsc, %edi
	call	puts
	movb	$0x3e, %al
	outb	%al, $DEBUG_EXIT
	hlt

/* putu: EAX in decimal. */
putu:
	movl	$numend, %edi
	movl	$10, %ecx
1:	xorl	%edx, %edx
	divl	%ecx
	addb	$'0', %dl
	decl	%edi
	movb	%dl, (%edi)
	testl	%eax, %eax
	jnz	1b
	jmp	puts

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
pass:	.asciz	"KHVRUN-MB-PASS "
ok:	.asciz	" ok\n"
badw:	.asciz	" BAD\n"
badtsc:	.asciz	" BAD tsc\n"
	.align	4
last_tsc:
	.long	0, 0
num:	.space	12
numend:	.byte	0

	.bss
	.align	16
	.space	4096
stack_top:
