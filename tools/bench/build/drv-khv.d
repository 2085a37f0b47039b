/work/main/tools/bench/build/drv-khv.o: /work/main/tools/bench/drv-khv.c \
 /work/main/lib/userspace/include/libkhv.h /work/main/uapi/linux/khv.h \
 /work/main/tools/bench/bench.h
/work/main/lib/userspace/include/libkhv.h:
/work/main/uapi/linux/khv.h:
/work/main/tools/bench/bench.h:
