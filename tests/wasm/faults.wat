;; A GoatFlow plugin whose handlers misbehave, for the runtime's fault tests.
;; gk_call looks at the function name's first letter:
;;   spin  loops for ever          crash  executes `unreachable`
;;   oob   reads past its memory   hog    allocates until gk_malloc fails, then traps
;;                                        (as TinyGo's runtime does when out of memory)
;;   echo  answers its args        anything else  {"ok":true}
(module
  (import "gk" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "{\"name\":\"faults\",\"version\":\"0.1.0\"}")
  (data (i32.const 128) "{\"ok\":true}")
  (data (i32.const 160) "allocating until gk_malloc fails")

  ;; A bump allocator that grows memory as needed and answers 0 when it cannot.
  (func $malloc (export "gk_malloc") (param $size i32) (result i32)
    (local $at i32) (local $end i32)
    (local.set $at (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $at) (local.get $size)) (i32.const 7))
                             (i32.const -8)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end)
                                                        (i32.mul (memory.size) (i32.const 65536)))
                                               (i32.const 65535))
                                      (i32.const 16)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $at))

  (func (export "gk_register") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 35)))

  (func (export "gk_call") (param $fn i32) (param $fn_len i32) (param $args i32) (param $args_len i32)
                           (result i64)
    (local $first i32)
    (local.set $first (i32.load8_u (local.get $fn)))
    ;; spin
    (if (i32.eq (local.get $first) (i32.const 115))
      (then (loop $again (br $again))))
    ;; crash
    (if (i32.eq (local.get $first) (i32.const 99))
      (then unreachable))
    ;; oob
    (if (i32.eq (local.get $first) (i32.const 111))
      (then (drop (i32.load (i32.const -16)))))
    ;; hog
    (if (i32.eq (local.get $first) (i32.const 104))
      (then
        (call $log (i32.const 1) (i32.const 160) (i32.const 32))
        (loop $more
          (br_if $more (i32.ne (call $malloc (i32.const 1048576)) (i32.const 0))))
        unreachable))
    ;; echo
    (if (i32.eq (local.get $first) (i32.const 101))
      (then (return (i64.or (i64.shl (i64.extend_i32_u (local.get $args)) (i64.const 32))
                            (i64.extend_i32_u (local.get $args_len))))))
    (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 11)))
)
