#!/usr/bin/env python3
"""Executable reference for docs/hashing.md, hash/assignment version 2.

Slow on purpose: it follows the written definition (the greedy over all pairs) rather than the
deferred acceptance of common/bucket_assignment.cc, and prints the golden digests that
tests/common/bucket_assignment_test.cc pins. Run: python3 docs/hashing_reference.py"""

M=(1<<64)-1
M32=(1<<32)-1
def rol(x,k): return ((x<<k)|(x>>(32-k)))&M32
def jhash(key,initval):  # the kernel's jhash() (lookup3 hashlittle), any length
  a=b=c=(0xdeadbeef+len(key)+initval)&M32
  while len(key)>12:
    a=(a+int.from_bytes(key[0:4],'little'))&M32; b=(b+int.from_bytes(key[4:8],'little'))&M32
    c=(c+int.from_bytes(key[8:12],'little'))&M32
    a=(a-c)&M32; a^=rol(c,4);  c=(c+b)&M32
    b=(b-a)&M32; b^=rol(a,6);  a=(a+c)&M32
    c=(c-b)&M32; c^=rol(b,8);  b=(b+a)&M32
    a=(a-c)&M32; a^=rol(c,16); c=(c+b)&M32
    b=(b-a)&M32; b^=rol(a,19); a=(a+c)&M32
    c=(c-b)&M32; c^=rol(b,4);  b=(b+a)&M32
    key=key[12:]
  if not key: return c
  k=key+bytes(12-len(key))
  a=(a+int.from_bytes(k[0:4],'little'))&M32; b=(b+int.from_bytes(k[4:8],'little'))&M32
  c=(c+int.from_bytes(k[8:12],'little'))&M32
  c^=b; c=(c-rol(b,14))&M32; a^=c; a=(a-rol(c,11))&M32; b^=a; b=(b-rol(a,25))&M32
  c^=b; c=(c-rol(b,16))&M32; a^=c; a=(a-rol(c,4))&M32;  b^=a; b=(b-rol(a,14))&M32
  c^=b; c=(c-rol(b,24))&M32
  return c
def rule_seed(name):  # section 4: a rule's seed from its name (UTF-8 bytes), initval "RULE"
  return jhash(name.encode('utf-8'),0x52554c45)
def mix(z):
  z=((z^(z>>30))*0xbf58476d1ce4e5b9)&M
  z=((z^(z>>27))*0x94d049bb133111eb)&M
  return z^(z>>31)
B=16384
def quotas(m):
  W=sum(w for _,w in m); q={h:B*w//W for h,w in m}; r={h:B*w%W for h,w in m}
  left=B-sum(q.values())
  for h in sorted(q,key=lambda h:(-r[h],h))[:left]: q[h]+=1
  return q
def assign(m,seed):
  q=quotas(m); pairs=[]
  for b in range(B):
    k=mix((seed<<32)|b)
    for h in q:
      if q[h]: pairs.append((-mix((k+h*0x9e3779b97f4a7c15)&M),h,b))
  pairs.sort(); own=[0]*B
  for _,h,b in pairs:
    if own[b]==0 and q[h]>0: own[b]=h; q[h]-=1
  return own
def digest(o):
  h=0xcbf29ce484222325
  for x in o:
    for byte in (x&0xff,x>>8): h=((h^byte)*0x100000001b3)&M
  return h
for m,seed in [([(1,50),(2,50),(3,50)],0x4e4c4231),([(4,10),(17,100),(30,55),(200,1),(256,0)],0x12345678),([(i,50) for i in range(1,65)],7)]:
  o=assign(m,seed); print(hex(digest(o)),o[0],o[1],o[-1])
# Version 2: a rule's seed is rule_seed(its name); the golden seeds and one map by name.
assert jhash(b"",0)==0xdeadbeef and jhash(b"Four score and seven years ago",0)==0x17770551
assert jhash(b"Four score and seven years ago",1)==0xcd628161
for name in ["", "web", "vip101", "http-and-https-for-the-shop"]:
  print(repr(name), hex(rule_seed(name)))
o=assign([(1,50),(2,50),(3,50)],rule_seed("web")); print("web", hex(digest(o)),o[0],o[1],o[-1])
