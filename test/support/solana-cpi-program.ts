import { AccountRole, getBase58Decoder, type Address, type Instruction, type TransactionSigner } from '@solana/kit';

/**
 * A tiny on-chain program for the test chain that makes a token transfer by CPI, as a smart wallet
 * or multisig does: its instruction takes `[token program, source, mint, destination, authority
 * (signer), ...extra]` and TransferChecked data, and invokes the token program with every account
 * after the first, in order, and the same data. So the inner TransferChecked carries whatever extra
 * accounts (a Solana Pay reference) the outer instruction carried.
 *
 * No program in LiteSVM does this and no npm package ships one, and there is no SBF toolchain
 * here, so the program is assembled below: a few dozen sBPF v3 instructions in the minimal ELF
 * that solana-sbpf's strict loader accepts (ELF header, one PT_LOAD of code, no sections).
 */
const MM_BYTECODE_START = 1n << 32n;
const ACCOUNTS = 6; // token program, source, mint, destination, authority, reference
const MAX_PERMITTED_DATA_INCREASE = 10_240;
/** Stack layout below r10: SolInstruction, then SolAccountMeta[5], then SolAccountInfo[6]. */
const INSTRUCTION_AT = -40;
const METAS_AT = INSTRUCTION_AT - 16 * (ACCOUNTS - 1);
const INFOS_AT = METAS_AT - 56 * ACCOUNTS;

// sBPF opcodes (classic eBPF encoding; v3 keeps it, with syscalls as `call` with src 0).
const OP = {
  mov64Imm: 0xb7,
  mov64Reg: 0xbf,
  add64Imm: 0x07,
  add64Reg: 0x0f,
  and64Imm: 0x57,
  ldxb: 0x71,
  ldxdw: 0x79,
  stxb: 0x73,
  stxdw: 0x7b,
  stdw: 0x7a,
  call: 0x85,
  exit: 0x95,
} as const;

type Insn = [opcode: number, dst: number, src: number, offset: number, imm: number];

/** The program's ELF bytes. */
export function cpiTransferProgramElf(): Uint8Array {
  const code: Insn[] = [];
  const emit = (...insn: Insn) => code.push(insn);
  // r6 walks the serialized input (aligned ABI): u64 account count, then each account.
  emit(OP.mov64Reg, 6, 1, 0, 0);
  emit(OP.add64Imm, 6, 0, 0, 8);
  for (let i = 0; i < ACCOUNTS; i++) {
    // Non-duplicate account at r6: dup marker, is_signer, is_writable, executable, 4 bytes
    // padding, key (+8), owner (+40), lamports (+72), data_len (+80), data (+88), 10 KiB of
    // realloc room, padding to 8, rent_epoch. The test never passes one account twice.
    const info = INFOS_AT + 56 * i;
    const pointerTo = (fieldOffset: number, slot: number) => {
      emit(OP.mov64Reg, 2, 6, 0, 0);
      emit(OP.add64Imm, 2, 0, 0, fieldOffset);
      emit(OP.stxdw, 10, 2, slot, 0);
    };
    pointerTo(8, info); // key
    pointerTo(72, info + 8); // lamports
    emit(OP.ldxdw, 3, 6, 80, 0);
    emit(OP.stxdw, 10, 3, info + 16, 0); // data_len
    pointerTo(88, info + 24); // data
    pointerTo(40, info + 32); // owner
    for (const [from, to] of [[1, 48], [2, 49], [3, 50]] as const) {
      emit(OP.ldxb, 4, 6, from, 0);
      emit(OP.stxb, 10, 4, info + to, 0); // is_signer, is_writable, executable
    }
    if (i === 0) {
      pointerTo(8, INSTRUCTION_AT); // program_id: the first account's key
    } else {
      const meta = METAS_AT + 16 * (i - 1);
      pointerTo(8, meta);
      emit(OP.ldxb, 4, 6, 2, 0);
      emit(OP.stxb, 10, 4, meta + 8, 0); // is_writable
      emit(OP.ldxb, 4, 6, 1, 0);
      emit(OP.stxb, 10, 4, meta + 9, 0); // is_signer
    }
    // Next account: past the data, the realloc room and the alignment padding, then rent_epoch.
    emit(OP.mov64Reg, 2, 6, 0, 0);
    emit(OP.add64Reg, 2, 3, 0, 0);
    emit(OP.add64Imm, 2, 0, 0, 88 + MAX_PERMITTED_DATA_INCREASE + 7);
    emit(OP.and64Imm, 2, 0, 0, -8);
    emit(OP.ldxdw, 4, 2, 0, 0);
    emit(OP.stxdw, 10, 4, info + 40, 0); // rent_epoch
    emit(OP.mov64Reg, 6, 2, 0, 0);
    emit(OP.add64Imm, 6, 0, 0, 8);
  }
  // r6 now points at the instruction data: u64 length, then the bytes.
  emit(OP.mov64Reg, 2, 10, 0, 0);
  emit(OP.add64Imm, 2, 0, 0, METAS_AT);
  emit(OP.stxdw, 10, 2, INSTRUCTION_AT + 8, 0); // accounts
  emit(OP.stdw, 10, 0, INSTRUCTION_AT + 16, ACCOUNTS - 1); // account_len
  emit(OP.mov64Reg, 2, 6, 0, 0);
  emit(OP.add64Imm, 2, 0, 0, 8);
  emit(OP.stxdw, 10, 2, INSTRUCTION_AT + 24, 0); // data
  emit(OP.ldxdw, 2, 6, 0, 0);
  emit(OP.stxdw, 10, 2, INSTRUCTION_AT + 32, 0); // data_len
  // sol_invoke_signed_c(instruction, account_infos, count, no signer seeds, 0)
  emit(OP.mov64Reg, 1, 10, 0, 0);
  emit(OP.add64Imm, 1, 0, 0, INSTRUCTION_AT);
  emit(OP.mov64Reg, 2, 10, 0, 0);
  emit(OP.add64Imm, 2, 0, 0, INFOS_AT);
  emit(OP.mov64Imm, 3, 0, 0, ACCOUNTS);
  emit(OP.mov64Imm, 4, 0, 0, 0);
  emit(OP.mov64Imm, 5, 0, 0, 0);
  emit(OP.call, 0, 0, 0, murmur3(new TextEncoder().encode('sol_invoke_signed_c')) | 0);
  emit(OP.mov64Imm, 0, 0, 0, 0);
  emit(OP.exit, 0, 0, 0, 0);
  return elf(encode(code));
}

/** The outer instruction: `[token program, source, mint, destination, authority, reference]`, TransferChecked data. */
export function cpiTransferInstruction(args: {
  program: Address;
  tokenProgram: Address;
  source: Address;
  mint: Address;
  destination: Address;
  authority: TransactionSigner;
  reference: Address;
  data: Uint8Array;
}): Instruction {
  return {
    programAddress: args.program,
    accounts: [
      { address: args.tokenProgram, role: AccountRole.READONLY },
      { address: args.source, role: AccountRole.WRITABLE },
      { address: args.mint, role: AccountRole.READONLY },
      { address: args.destination, role: AccountRole.WRITABLE },
      { address: args.authority.address, role: AccountRole.READONLY_SIGNER, signer: args.authority },
      { address: args.reference, role: AccountRole.READONLY },
    ],
    data: args.data,
  } as Instruction;
}

/** A fresh program id (any 32 bytes will do for a program added directly to LiteSVM). */
export function randomProgramId(): Address {
  return getBase58Decoder().decode(crypto.getRandomValues(new Uint8Array(32))) as Address;
}

function encode(code: Insn[]): Uint8Array {
  const bytes = new Uint8Array(code.length * 8);
  const view = new DataView(bytes.buffer);
  code.forEach(([opcode, dst, src, offset, imm], i) => {
    view.setUint8(i * 8, opcode);
    view.setUint8(i * 8 + 1, (src << 4) | dst);
    view.setInt16(i * 8 + 2, offset, true);
    view.setInt32(i * 8 + 4, imm, true);
  });
  return bytes;
}

/** ELF64 header + one PT_LOAD (PF_X) program header + code, as SBPFv3's strict loader expects. */
function elf(code: Uint8Array): Uint8Array {
  const EHDR = 64;
  const PHDR = 56;
  const out = new Uint8Array(EHDR + PHDR + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0], 0); // magic, 64-bit, little endian, version 1, SysV ABI 0
  v.setUint16(16, 3, true); // ET_DYN
  v.setUint16(18, 247, true); // EM_BPF
  v.setUint32(20, 1, true); // EV_CURRENT
  v.setBigUint64(24, MM_BYTECODE_START, true); // e_entry: the first instruction
  v.setBigUint64(32, BigInt(EHDR), true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff: no sections
  v.setUint32(48, 3, true); // e_flags: SBPF v3
  v.setUint16(52, EHDR, true);
  v.setUint16(54, PHDR, true);
  v.setUint16(56, 1, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint32(EHDR, 1, true); // PT_LOAD
  v.setUint32(EHDR + 4, 1, true); // PF_X
  v.setBigUint64(EHDR + 8, BigInt(EHDR + PHDR), true); // p_offset
  v.setBigUint64(EHDR + 16, MM_BYTECODE_START, true); // p_vaddr
  v.setBigUint64(EHDR + 24, MM_BYTECODE_START, true); // p_paddr
  v.setBigUint64(EHDR + 32, BigInt(code.length), true); // p_filesz
  v.setBigUint64(EHDR + 40, BigInt(code.length), true); // p_memsz
  v.setBigUint64(EHDR + 48, 8n, true); // p_align
  out.set(code, EHDR + PHDR);
  return out;
}

/** MurmurHash3 (x86, 32-bit, seed 0): how sBPF names a syscall in `call imm`. */
export function murmur3(bytes: Uint8Array): number {
  let h = 0;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blocks = bytes.length >> 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < blocks; i++) {
    let k = view.getUint32(i * 4, true);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    for (let i = rest - 1; i >= 0; i--) k = (k << 8) | bytes[tail + i]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
