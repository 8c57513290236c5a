/* init_image.S — xxx-init (src/boxinit), built static, as bytes in xxxd:
 * box_init_image .. box_init_image_end. The pool copies them into a sealed
 * memfd and every box starts by exec'ing that (launch.c). */
    .section .rodata
    .balign 16
    .globl box_init_image
    .type box_init_image, @object
box_init_image:
    .incbin XXX_INIT_PATH
    .globl box_init_image_end
box_init_image_end:
    .section .note.GNU-stack, "", @progbits
