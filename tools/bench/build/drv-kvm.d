/work/main/tools/bench/build/drv-kvm.o: /work/main/tools/bench/drv-kvm.c \
 /work/main/tools/bench/bench.h
/work/main/tools/bench/bench.h:
