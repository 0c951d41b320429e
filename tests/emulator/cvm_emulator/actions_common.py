# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the actions share: ApiRequest, and EmulatedCvmBase with the look-ups, the checks of the instance
operations, the operation timelines and the instance view. actions.EmulatedCvm adds the handlers.
May import: constants, errors, helpers, faults.
"""

import collections
import random
import uuid

from .constants import KEY_BINDING_ACTIONS
from .errors import ApiError
from .faults import FaultDraws
from .helpers import camel_state, is_windows, quoted


ApiRequest = collections.namedtuple("ApiRequest", "region request_id")


class EmulatedCvmBase:
    """The CVM actions' shared parts over a World, with the runtime configuration they depend on."""

    def __init__(self, world, config, rng, draws=None):
        self.world = world
        self.config = config
        self.rng = rng
        self.draws = draws or FaultDraws(config.seed)
        self.id_rng = random.Random(rng.random())
        self.key_maker = None  # SSH mode: makes real key pairs for CreateKeyPair (ssh_hosts.SshHosts.make_key_pair)

    # -- lookups -----------------------------------------------------------------------------------------------------

    def instances_in(self, region, instance_ids):
        """The instances of a write, all of which must exist in the region."""
        missing = [item for item in instance_ids if item not in self.world.instances or self.world.instances[item].region != region]
        if missing:
            raise ApiError("InvalidInstanceId.NotFound", "The instance ID(s) %s do not exist in region `%s`." % (quoted(missing), region))
        return [self.world.instances[item] for item in instance_ids]

    def key_pairs_in(self, region, key_ids):
        missing = [item for item in key_ids if item not in self.world.key_pairs or self.world.key_pairs[item].region != region]
        if missing:
            raise ApiError("InvalidKeyPairId.NotFound", "The key pair ID(s) %s do not exist in region `%s`." % (quoted(missing), region))
        return [self.world.key_pairs[item] for item in key_ids]

    # -- checks shared by the instance operations --------------------------------------------------------------------

    @staticmethod
    def reject_windows(instances):
        windows = [instance for instance in instances if is_windows(instance.data)]
        if windows:
            raise ApiError("UnsupportedOperation.InstanceOsWindows", "The request does not support Windows instances: %s (%s)."
                           % (quoted(instance.instance_id for instance in windows), windows[0].data.get("OsName")))

    @staticmethod
    def reject_stop_charging(instances):
        stopped = [i.instance_id for i in instances if i.data["InstanceState"] == "STOPPED" and i.data.get("StopChargingMode") == "STOP_CHARGING"]
        if stopped:
            raise ApiError("UnsupportedOperation.StoppedModeStopCharging",
                           "The request does not support instances shut down in STOP_CHARGING mode: %s." % quoted(stopped))

    @staticmethod
    def reject_states(instances, allowed_states, hint):
        """Fail the whole batch on the first state group that may not be operated on, naming its instances."""
        by_state = collections.OrderedDict()
        for instance in instances:
            if instance.data["InstanceState"] not in allowed_states:
                by_state.setdefault(instance.data["InstanceState"], []).append(instance.instance_id)
        for state, ids in by_state.items():
            raise ApiError("UnsupportedOperation.InstanceState" + camel_state(state),
                           "The request does not support instances in state `%s`: %s.%s" % (state, quoted(ids), hint))

    @staticmethod
    def reject_busy(instances):
        busy = [instance.instance_id for instance in instances
                if instance.operation is not None or instance.data.get("LatestOperationState") == "OPERATING"]
        if busy:
            raise ApiError("OperationDenied.InstanceOperationInProgress",
                           "An operation is still in progress on instance(s) %s; retry when it has finished." % quoted(busy))

    def failure_for(self, instance, action):
        """The error message an operation will end with (FAILED), or None when it succeeds."""
        message = self.config.operation_failures.get(instance.instance_id)
        if message:
            return message
        probability = self.config.faults["operation_failed"]
        # Keyed by the instance and how many such operations it had, not by arrival order among threads.
        if action in KEY_BINDING_ACTIONS and probability and self.draws.strikes(
                "operation_failed", probability, self.draws.instance_key(action, instance.instance_id)):
            return "%s failed on instance %s: internal task error (injected fault), please retry." % (action, instance.instance_id)
        return None

    # -- operation timelines -----------------------------------------------------------------------------------------

    def schedule(self, instance, action, request_id, timeline, failure, restart_after=None, down=None):
        """Start an operation: show it as OPERATING, run the timeline [(fraction of latency, callable)], then finish it.

        down: (from, to) fractions of the latency during which a force-stopped instance is down (the stop log counts it).

        restart_after: (fraction, timeline) of a StartInstances operation of its own (reading restart_as_own_operation):
        the first operation finishes at `fraction` of the latency, then the restart shows with a new RequestId.
        """
        latency = self.config.operation_latency
        delay = self.config.operation_start_delay
        data = instance.data
        instance.operated = True
        instance.operation_hidden = True

        def show():
            instance.operation_hidden = False
            data.update(LatestOperation=action, LatestOperationState="OPERATING", LatestOperationRequestId=request_id,
                        LatestOperationErrorMsg="")

        def finish():
            data.update(LatestOperationState="FAILED" if failure else "SUCCESS", LatestOperationErrorMsg=failure or "")

        steps = [(delay, show)] + [(delay + fraction * latency, step) for fraction, step in timeline]
        if restart_after is None:
            steps.append((delay + latency, finish))
        else:
            finished_at, restart_timeline = restart_after
            restart_id = str(uuid.uuid4())

            def show_restart():
                data.update(LatestOperation="StartInstances", LatestOperationState="OPERATING", LatestOperationRequestId=restart_id,
                            LatestOperationErrorMsg="")

            def finish_restart():
                data.update(LatestOperationState="SUCCESS", LatestOperationErrorMsg="")

            steps.append((delay + finished_at * latency, finish))
            steps.append((delay + restart_timeline[0][0] * latency, show_restart))
            steps += [(delay + fraction * latency, step) for fraction, step in restart_timeline]
            steps.append((delay + latency, finish_restart))
        steps.sort(key=lambda step: step[0])  # stable: steps due at the same time keep their order
        started = self.world.start_operation(instance, steps)
        if down is not None:
            self.world.stops.record(instance.instance_id, started + delay + down[0] * latency, started + delay + down[1] * latency)

    def set_state(self, instance, state, stop_charging_mode=None):
        def step():
            instance.data["InstanceState"] = state
            if stop_charging_mode:
                instance.data["StopChargingMode"] = stop_charging_mode
            self.world.state_changed(instance)
        return step

    def key_change_timeline(self, instance, change, force_stop):
        """Stopped: change keys at the end. Running with ForceStop: STOPPING, STOPPED, keys, STARTING, RUNNING.

        Returns (timeline, restart_after, down) for schedule(); with restart_as_own_operation the restart of a RUNNING
        instance is a StartInstances operation of its own, after the key change has finished (SUCCESS or FAILED).
        down is when a force-stopped instance is down (None when it is not stopped by this change).
        """
        if instance.data["InstanceState"] == "RUNNING" and force_stop:
            if self.config.restart_as_own_operation:
                stop = [(0.0, self.set_state(instance, "STOPPING")), (0.25, self.set_state(instance, "STOPPED")), (0.5, change)]
                restart = [(0.7, self.set_state(instance, "STARTING")), (1.0, self.set_state(instance, "RUNNING"))]
                return stop, (0.6, restart), (0.0, 1.0)
            return [(0.0, self.set_state(instance, "STOPPING")), (1 / 3, self.set_state(instance, "STOPPED")),
                    (2 / 3, change), (2 / 3, self.set_state(instance, "STARTING")), (1.0, self.set_state(instance, "RUNNING"))], None, (0.0, 1.0)
        return [(1.0, change)], None, None

    def api_instance_view(self, instance):
        """What DescribeInstances shows; with null_operation_fields, LatestOperation* are null on an instance never operated
        and while an accepted operation is not shown yet (the start delay)."""
        view = self.world.instance_view(instance)
        if self.config.null_operation_fields and (not instance.operated or instance.operation_hidden):
            view.update(LatestOperation=None, LatestOperationState=None, LatestOperationRequestId=None, LatestOperationErrorMsg=None)
        return view

    def reject_duplicates(self, instances, key_ids, binding):
        """Reading strict_duplicates (the codes of the sibling Lighthouse API): the whole call fails, nothing changes."""
        if not self.config.strict_duplicates:
            return
        if binding:
            if self.config.bind_replaces_keys:
                return  # a bind sets the list: nothing in it is a duplicate
            clashes = ["%s (%s)" % (i.instance_id, ", ".join(k for k in key_ids if k in i.key_ids)) for i in instances
                       if set(key_ids) & set(i.key_ids)]
            if clashes:
                raise ApiError("UnsupportedOperation.KeyPairBindDuplicate",
                               "The key pair(s) are already bound to instance(s): %s." % "; ".join(clashes))
            return
        missing = ["%s (%s)" % (i.instance_id, ", ".join(k for k in key_ids if k not in i.key_ids)) for i in instances
                   if set(key_ids) - set(i.key_ids)]
        if missing:
            raise ApiError("UnsupportedOperation.KeyPairNotBoundToInstance",
                           "The key pair(s) are not bound to instance(s): %s." % "; ".join(missing))
