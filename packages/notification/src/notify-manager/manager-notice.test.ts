import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Uuid } from '@ems/contracts';
import { managerNoticeRequest, noManagerEmailId, uuidV5 } from './manager-notice.ts';

describe('uuidV5', () => {
  it('when given the RFC test vector (DNS namespace, www.example.com), then it yields the published UUID', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('when the namespace is not a UUID, then it refuses', () => {
    expect(() => uuidV5('x', 'nope')).toThrow(/not a UUID/);
  });
});

describe('noManagerEmailId', () => {
  it('when derived twice from one resignation (in any letter case), then it is the same valid v5 UUID; other resignations get other ids', () => {
    const resignationId = randomUUID();
    const id = noManagerEmailId(resignationId);
    expect(noManagerEmailId(resignationId.toUpperCase())).toBe(id);
    expect(Uuid.safeParse(id).success).toBe(true);
    expect(id[14]).toBe('5');
    expect(id).not.toBe(resignationId);
    expect(noManagerEmailId(randomUUID())).not.toBe(id);
  });
});

describe('managerNoticeRequest', () => {
  const facts = {
    resignationId: randomUUID(),
    employee: { id: 'E1001', name: 'Alice Leaver' },
    manager: { name: 'Dana Boss', email: 'dana@acme.example' },
    lastWorkingDay: '2026-03-31',
    reason: 'New job',
  };

  it('when the employee has a manager, then the request addresses the manager with the template data and the case link', () => {
    expect(managerNoticeRequest(facts, 'https://ems.example/c/1')).toEqual({
      resignationId: facts.resignationId,
      purpose: 'manager-notice',
      to: { email: 'dana@acme.example', name: 'Dana Boss' },
      template: 'resignation-manager-notice',
      data: { managerName: 'Dana Boss', employeeName: 'Alice Leaver', employeeId: 'E1001', lastWorkingDay: '2026-03-31', reason: 'New job', caseUrl: 'https://ems.example/c/1' },
      attachments: [],
    });
  });

  it('when the employee has no manager, then there is no request', () => {
    expect(managerNoticeRequest({ ...facts, manager: null }, null)).toBeUndefined();
  });
});
